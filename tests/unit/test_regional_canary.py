"""A canary hotfix of a skill served from three regions (NA, EU, FE): the same share of
traffic on every region's live alias (each region's own new version), judged on every
region's figures, ended in every region; a region that fails to start is finished or
taken back, never left running alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.canary import CanaryState
from bot.domain.errors import PartlyApplied, Refused, StalePlan, Unavailable
from bot.domain.model import Outcome
from tests.support.canary import run_canary_pass
from tests.support.regions import EU, FE, NA, FlakyLambda, make_regional_world
from tests.support.users import OPERATOR

#: after w.deploy("code-3"): the new version in each region (EU has one version more)
NEW = {"NA": "3", "EU": "4", "FE": "3"}
OLD = {"NA": "1", "EU": "2", "FE": "1"}
FUNCTIONS = {"NA": NA, "EU": EU, "FE": FE}


@pytest.fixture
def w():
    return make_regional_world(FlakyLambda())


def routing(w, alias="PROD1"):
    return {
        r: (w.lam.functions[f].aliases[alias].version, w.lam.functions[f].aliases[alias].routing)
        for r, f in FUNCTIONS.items()
    }


def canary_plan(w, **extra):
    w.deploy("code-3")
    return w.cases.offers.propose_canary(
        "trivia", actor=OPERATOR, weight=0.1, seconds=600, reason="crash", **extra
    ).plan


def start(w):
    w.cases.applying.apply(canary_plan(w).id, actor=OPERATOR)
    return w.services.runtime.store.canary_book().active("trivia")


def run_pass(w, **advance):
    run_canary_pass(w.services, w.clock, **advance)


def channel(w):
    return [p.text for p in w.notifier.top_level("C0TRIVIA")]


def record(w, region, version, invocations, errors=0, seconds=5):
    w.metrics.record(
        w.clock() + timedelta(seconds=seconds),
        version,
        invocations,
        errors,
        function=FUNCTIONS[region],
    )


def good_traffic(w, seconds=5):
    for region in FUNCTIONS:
        record(w, region, OLD[region], 900, 9, seconds)
        record(w, region, NEW[region], 100, 1, seconds)


def test_the_plan_shows_every_region_and_the_hotfix_offers_a_canary_twin(w):
    plan = canary_plan(w)
    assert [(m.region, m.from_version, m.to_version) for m in plan.regions] == [
        ("EU", "2", None),
        ("FE", "1", None),
    ], "each region publishes its own version from $LATEST"
    offer = w.cases.offers.propose("hotfix", "trivia", actor=OPERATOR)
    assert offer.canary is not None and offer.canary.regions == offer.plan.regions


def test_confirm_sets_the_same_weight_on_every_regions_live_alias(w):
    canary = start(w)
    assert routing(w) == {r: (OLD[r], {NEW[r]: 0.1}) for r in FUNCTIONS}
    assert canary.state is CanaryState.RUNNING
    assert [(p.region, p.old_version, p.new_version) for p in canary.regions] == [
        (r, OLD[r], NEW[r]) for r in FUNCTIONS
    ]
    [message] = channel(w)
    assert message.startswith(
        "trivia: canary PROD1 v1 → v3 (NA), EU v2 → v4, FE v1 → v3 for 10% of traffic"
    )


def test_one_region_erring_aborts_it_everywhere_though_all_together_look_fine(w):
    start(w)
    for region in ("NA", "FE"):
        record(w, region, OLD[region], 5000, 0)
        record(w, region, NEW[region], 500, 0)
    record(w, "EU", OLD["EU"], 90, 0)
    record(w, "EU", NEW["EU"], 20, 6)  # 30 % in EU; 6 of 1,020 (0.6 %) all together
    run_pass(w, seconds=31)
    assert routing(w) == {r: (OLD[r], {}) for r in FUNCTIONS}, "weights cleared everywhere"
    ended = channel(w)[-1]
    assert ended.startswith(
        "trivia: canary aborted — PROD1 stays on v1 (v3 → v1) (NA), EU stays on v2, "
        "FE stays on v1; aborted: in EU, the new version's error rate"
    )
    assert "6 errors in 20 invocations (30.00 %)" in ended
    assert w.services.runtime.store.canary_book().active("trivia") is None


def test_good_figures_everywhere_complete_it_in_every_region(w):
    start(w)
    good_traffic(w)
    run_pass(w, seconds=31)
    message = w.notifier.updated[-1]
    per_region = str(message.blocks)
    assert "*EU* EU v2 → v4: v4 1 errors in 100 invocations (1.00 %)" in per_region
    assert "300 invocations, 3 errors" in per_region, "the fields add every region up"
    run_pass(w, minutes=10)
    assert routing(w) == {r: (NEW[r], {}) for r in FUNCTIONS}
    assert channel(w)[-1].startswith(
        "trivia: canary completed — PROD1 v1 → v3 (NA), EU v2 → v4, FE v1 → v3;"
    )
    event = w.services.runtime.store.audit("trivia", 1)[0]
    assert (event.operation, event.outcome) == ("canary-complete", Outcome.APPLIED)


@pytest.mark.parametrize("lost", [False, True], ids=["throttled", "answer lost"])
def test_a_region_failing_to_get_its_weights_is_finished_by_confirming_again(w, lost):
    plan = canary_plan(w)
    w.lam.fail_route(
        EU, Unavailable("AWS throttled move alias PROD1 even after retries."), lost=lost
    )
    with pytest.raises(PartlyApplied) as partly:
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert "Weights set: NA (v3 at 10%), FE (v3 at 10%)" in partly.value.message
    assert "Not set: EU: AWS throttled" in partly.value.message
    assert "Press Confirm again" in partly.value.hint
    assert channel(w) == [], "no canary message while a region is without its weights"
    book = w.services.runtime.store.canary_book()
    assert book.active("trivia").state is CanaryState.STARTING

    w.cases.applying.apply(plan.id, actor=OPERATOR)  # Confirm again
    assert routing(w) == {r: (OLD[r], {NEW[r]: 0.1}) for r in FUNCTIONS}
    assert book.active("trivia").state is CanaryState.RUNNING
    assert len(channel(w)) == 1


def test_the_canary_pass_finishes_a_partly_started_canary_by_itself(w):
    plan = canary_plan(w)
    w.lam.fail_route(FE, Unavailable("AWS did not answer move alias PROD1 in time."))
    with pytest.raises(PartlyApplied):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    run_pass(w)
    assert routing(w) == {r: (OLD[r], {NEW[r]: 0.1}) for r in FUNCTIONS}
    assert w.services.runtime.store.canary_book().active("trivia").state is CanaryState.RUNNING
    assert w.services.runtime.store.plan_status(plan.id) == "applied"


def test_a_region_changed_meanwhile_takes_back_the_weights_set_elsewhere(w):
    plan = canary_plan(w)
    w.lam.fail_route(EU, StalePlan("PreconditionFailedException: revision id mismatch"))
    with pytest.raises(StalePlan) as stale:
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert "was not started: EU changed since the plan was shown" in stale.value.message
    assert "taken back" in stale.value.message
    assert routing(w) == {r: (OLD[r], {}) for r in FUNCTIONS}, "no region runs it alone"
    assert w.services.runtime.store.canary_book().active("trivia") is None
    assert channel(w) == []


def test_regions_out_of_sync_refuse_the_canary_before_anything_changes(w):
    for function in (NA, FE):
        w.lam.deploy(function, "code-3")
    with pytest.raises(Refused) as refused:
        w.cases.offers.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600)
    assert "EU" in refused.value.message
    assert routing(w) == {r: (OLD[r], {}) for r in FUNCTIONS}


def test_an_end_failing_in_one_region_is_finished_by_the_next_pass(w):
    canary = start(w)
    w.lam.fail_route(FE, Unavailable("AWS throttled move alias PROD1 even after retries."))
    with pytest.raises(Unavailable) as failed:
        w.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=False)
    assert "decided (abort), but ending it failed for now: FE: AWS throttled" in str(failed.value)
    assert routing(w)["FE"] == ("1", {"3": 0.1}), "FE failed this time"
    assert routing(w)["NA"] == ("1", {}) and routing(w)["EU"] == ("2", {})
    assert w.services.runtime.store.canary_book().get(canary.id).state is CanaryState.ENDING
    run_pass(w, minutes=3)  # after the claim's lease
    assert routing(w) == {r: (OLD[r], {}) for r in FUNCTIONS}
    assert w.services.runtime.store.canary_book().get(canary.id).state is CanaryState.ABORTED
    assert sum("canary aborted" in t for t in channel(w)) == 1


def test_a_region_changed_outside_is_left_as_it_is_and_named(w):
    canary = start(w)
    eu = w.lam.functions[EU].aliases["PROD1"]
    w.lam.route(EU, "PROD1", "3", {}, eu.revision_id)  # someone in the console
    w.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=True)
    assert routing(w)["NA"] == ("3", {}) and routing(w)["FE"] == ("3", {})
    assert routing(w)["EU"] == ("3", {})
    ended = w.services.runtime.store.canary_book().get(canary.id)
    assert ended.state is CanaryState.COMPLETED
    assert "EU's PROD1 was changed outside skillbot (v3) and is left as it is" in ended.outcome
    assert w.services.runtime.store.audit("trivia", 1)[0].outcome is Outcome.FAILED


def test_doctor_reports_the_canarys_weights_in_every_region_as_the_canary(w):
    start(w)
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    routing_checks = [f for f in report.findings if "weighted routing" in f.check]
    assert routing_checks and all(f.ok for f in routing_checks), [
        (f.check, f.detail) for f in routing_checks if not f.ok
    ]
    assert sum("runs a canary" in f.detail for f in routing_checks) == 3


def test_recovery_finishes_a_regional_canary_start_a_crash_cut_short(w):
    plan = canary_plan(w)
    w.lam.fail_route(EU, Unavailable("no answer"))
    with pytest.raises(PartlyApplied):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    # as if the process had died while applying: the plan is left "applying"
    assert w.services.runtime.store.claim_plan(plan.id)
    report = w.services.runtime.recovery.run()
    assert report.completed == [plan.summary()]
    assert routing(w) == {r: (OLD[r], {NEW[r]: 0.1}) for r in FUNCTIONS}
    assert w.services.runtime.store.canary_book().active("trivia").state is CanaryState.RUNNING
    [message] = channel(w)
    assert "(NA), EU v2 → v4, FE v1 → v3" in message
