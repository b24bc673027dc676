"""Canary hotfixes over the fake Lambda (real AWS semantics), fake CloudWatch figures and a
SQLite store: started by a Confirm, ended by the figures or a button, exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.slack.kit import say
from bot.adapters.slack.messages import canary_status
from bot.domain.canary import CanaryState
from bot.domain.errors import NotAuthorized, NotFound, Refused, StalePlan, Unavailable
from bot.domain.model import Outcome
from tests.support.canary import run_canary_pass
from tests.support.fakes import FakeLambda
from tests.support.users import APPROVER, OPERATOR, STRANGER
from tests.support.world import make_world

FN = "trivia-skill"


@pytest.fixture
def w():
    return make_world()


def start_canary(w, *, seconds=600, weight=0.1, reason="crash fix"):
    w.lam.deploy(FN, "code-3")
    offer = w.cases.offers.propose_canary(
        "trivia", actor=OPERATOR, weight=weight, seconds=seconds, reason=reason
    )
    w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    return w.services.runtime.store.canary_book().active("trivia")


def run_pass(w, **advance):
    run_canary_pass(w.services, w.clock, **advance)


def routing(w):
    state = w.lam.functions[FN].aliases["PROD1"]
    return state.version, state.routing


def channel_posts(w):
    return [p.text for p in w.notifier.top_level("C0TRIVIA")]


def test_confirm_sets_weights_and_posts_one_canary_message(w):
    canary = start_canary(w, reason="fix <!channel> & co")
    assert routing(w) == ("1", {"3": 0.1}), "the main version stays, v3 gets 10 %"
    assert (canary.state, canary.old_version, canary.new_version) == (CanaryState.RUNNING, "1", "3")
    [message] = w.notifier.top_level("C0TRIVIA")
    assert message.text == (
        "trivia: canary PROD1 v1 → v3 for 10% of traffic, 10m, by <@U0ALICE>"
        " — fix &lt;!channel&gt; &amp; co"
    )
    buttons = [
        e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["canary_complete", "canary_abort"]
    assert w.store.audit("trivia", 1)[0].operation == "canary"


def test_completes_at_the_end_of_the_window_on_good_figures(w):
    start_canary(w)
    w.metrics.record(w.clock() + timedelta(seconds=10), "1", 900, 9)
    w.metrics.record(w.clock() + timedelta(seconds=10), "3", 100, 1)
    run_pass(w, seconds=31)
    assert routing(w) == ("1", {"3": 0.1}), "still within the window"
    update = w.notifier.updated[-1]
    assert "100 invocations, 1 errors" in str(update.blocks) and "left" in str(update.blocks)
    run_pass(w, minutes=10)
    assert routing(w) == ("3", {}), "main version → v3, weights cleared, in one change"
    ended = channel_posts(w)[-1]
    assert ended.startswith("trivia: canary completed — PROD1 v1 → v3;")
    assert "Completed" in str(w.notifier.updated[-1].blocks)
    event = w.store.audit("trivia", 1)[0]
    assert (event.operation, event.outcome, event.from_version, event.to_version) == (
        "canary-complete",
        Outcome.APPLIED,
        "1",
        "3",
    )
    # a rollback after a completed canary goes back to the old version
    assert w.cases.planning.plan("rollback", "trivia", actor=OPERATOR).to_version == "1"


def test_aborts_early_when_the_new_version_errs_more(w):
    start_canary(w)
    w.metrics.record(w.clock() + timedelta(seconds=5), "1", 900, 0)
    w.metrics.record(w.clock() + timedelta(seconds=5), "3", 40, 8)
    run_pass(w, seconds=31)
    assert routing(w) == ("1", {}), "weights cleared, the old version keeps all traffic"
    aborted = channel_posts(w)[-1]
    assert aborted.startswith("trivia: canary aborted — PROD1 stays on v1 (v3 → v1); aborted:")
    assert "8 errors in 40 invocations (20.00 %)" in aborted
    assert w.services.runtime.store.canary_book().active("trivia") is None


def test_a_quiet_window_waits_and_says_so(w):
    start_canary(w)
    w.metrics.record(w.clock() + timedelta(seconds=5), "3", 2, 0)
    run_pass(w, minutes=11)
    assert routing(w) == ("1", {"3": 0.1})
    assert "waiting for traffic: the new version had 2 of the 10" in str(
        w.notifier.updated[-1].blocks
    )
    w.metrics.record(w.clock(), "3", 20, 0)
    run_pass(w, seconds=31)
    assert routing(w) == ("3", {})


def test_a_quiet_window_completes_when_allowed():
    w = make_world(canary_complete_without_traffic=True)
    start_canary(w)
    run_pass(w, minutes=11)
    assert routing(w) == ("3", {})
    assert "too little traffic" in channel_posts(w)[-1]


def test_abort_button_by_an_operator_and_refused_to_others(w):
    canary = start_canary(w)
    with pytest.raises(NotAuthorized):
        w.cases.offers.end_canary(canary.id, actor=STRANGER, complete=False)
    assert routing(w) == ("1", {"3": 0.1})
    ended = w.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=False)
    assert ended.state is CanaryState.ABORTED and routing(w) == ("1", {})
    assert "aborted by <@U0ALICE>" in channel_posts(w)[-1]
    with pytest.raises(Refused, match="This canary is aborted"):
        w.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=True)
    assert routing(w) == ("1", {})
    assert len([t for t in channel_posts(w) if "canary aborted" in t]) == 1


def test_complete_now(w):
    canary = start_canary(w)
    w.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=True)
    assert routing(w) == ("3", {})


def test_changes_to_the_live_alias_are_refused_while_it_runs(w):
    start_canary(w)
    w.lam.deploy(FN, "code-4")
    for plan in (
        lambda: w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR),
        lambda: w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2"),
        lambda: w.cases.offers.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=60),
    ):
        with pytest.raises(Refused, match="A canary runs on trivia's PROD1") as err:
            plan()
        assert "Complete now" in err.value.hint
    # certify moves the candidate alias: allowed; promoting would swap the roles: refused
    cert = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(cert.id, actor=OPERATOR)
    with pytest.raises(Refused, match="promoting"):
        w.cases.promotion.promote("trivia", actor=APPROVER)
    assert routing(w) == ("1", {"3": 0.1}) and w.lam.read_live_alias(FN) is None


def test_a_plan_made_before_the_canary_is_refused_at_confirm(w):
    w.lam.deploy(FN, "code-3")
    rollback = w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    start_canary(w)
    with pytest.raises(Refused, match="A canary runs"):
        w.cases.applying.apply(rollback.id, actor=OPERATOR)
    assert routing(w) == ("1", {"3": 0.1})


def test_doctor_knows_the_canary_and_still_reports_foreign_weights(w):
    start_canary(w)
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    [routing_check] = [f for f in report.findings if f.check == "PROD1 has no weighted routing"]
    assert routing_check.ok and "runs a canary" in routing_check.detail
    assert not [p for p in report.fixes if p.fix and p.fix.value == "clear_routing"]
    # weights someone else set
    state = w.lam.functions[FN].aliases["PROD2"]
    w.lam.route(FN, "PROD2", state.version, {"1": 0.3}, state.revision_id)
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    [foreign] = [f for f in report.findings if f.check == "PROD2 has no weighted routing"]
    assert not foreign.ok and "v1 30%" in foreign.detail


def test_status_and_app_home_show_the_running_canary(w):
    start_canary(w)
    view = w.cases.reading.status("trivia")
    line = canary_status(view.canary, view.now) if view.canary else ""
    assert line and "Canary on PROD1: v3 takes 10% of traffic beside v1" in line
    w.services.cases.home.opened(OPERATOR)
    assert "Canary on PROD1" in str(w.notifier.homes[OPERATOR])


def test_two_replicas_check_and_end_each_canary_once(w):
    from tests.support.world import compose_over

    start_canary(w)
    other = compose_over(w.lam, w.store, w.clock, w.notifier, metrics=w.metrics)
    passes = [w.services.runtime.canary_pass, other.runtime.canary_pass]
    w.clock.advance(seconds=31)
    for p in passes:
        p.run_pass()
    assert w.metrics.reads == 1, "one check, by one replica"
    w.metrics.record(w.clock(), "3", 50, 25)
    w.clock.advance(seconds=31)
    for p in passes:
        p.run_pass()
    assert routing(w) == ("1", {})
    assert len([t for t in channel_posts(w) if "canary aborted" in t]) == 1
    assert [e.operation for e in w.store.audit("trivia", 5)].count("canary-abort") == 1


def test_an_end_decided_by_a_process_that_died_is_finished_by_the_next(w):
    canary = start_canary(w)
    book = w.services.runtime.store.canary_book()
    # decided, claimed, then the process died before the alias change
    assert book.change(
        canary.id,
        canary.version,
        state=CanaryState.ENDING,
        decision="abort",
        decided_by="skillbot-canary",
        outcome="aborted: errors",
        claimed_by="dead:1",
        claim_until=w.clock() + timedelta(seconds=120),
    )
    run_pass(w, seconds=31)
    assert routing(w) == ("1", {"3": 0.1}), "the claim of the dead process still holds"
    run_pass(w, seconds=120)
    assert routing(w) == ("1", {})
    assert channel_posts(w)[-1].startswith("trivia: canary aborted")


class LostAnswer(FakeLambda):
    """Sets the weights, then the answer is lost (a timeout)."""

    def route(self, function, alias, version, weights, revision_id):  # type: ignore[no-untyped-def]
        state = super().route(function, alias, version, weights, revision_id)
        if weights:
            raise Unavailable("AWS did not answer in time", outcome_unknown=True)
        return state


def test_a_start_whose_answer_was_lost_is_found_running_by_the_pass():
    w = make_world()
    lost = LostAnswer()
    lost.functions = w.lam.functions
    from tests.support.world import compose_over

    services = compose_over(lost, w.store, w.clock, w.notifier, metrics=w.metrics)
    w.lam.deploy(FN, "code-3")
    offer = services.cases.offers.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600)
    with pytest.raises(Unavailable):
        services.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    book = services.runtime.store.canary_book()
    assert book.active("trivia").state is CanaryState.STARTING
    services.runtime.canary_pass.run_pass()
    assert book.active("trivia").state is CanaryState.RUNNING
    assert w.store.plan_status(offer.plan.id) == "applied"
    assert len(w.notifier.top_level("C0TRIVIA")) == 1, "its canary message"


def test_a_refused_start_leaves_nothing_behind(w):
    w.lam.deploy(FN, "code-3")
    offer = w.cases.offers.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600)
    state = w.lam.functions[FN].aliases["PROD1"]
    w.lam.route(FN, "PROD1", "2", {}, state.revision_id)  # moved elsewhere meanwhile
    with pytest.raises(StalePlan) as refused:  # as Slack shows its hint
        w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    assert "Run `/skill hotfix trivia --canary 10%` again" in say(refused.value.todo)
    assert w.services.runtime.store.canary_book().active("trivia") is None
    w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)  # nothing blocks the skill


def test_the_hotfix_plan_offers_a_canary_twin_and_only_one_applies(w):
    w.lam.deploy(FN, "code-3")
    offer = w.cases.offers.propose("hotfix", "trivia", actor=OPERATOR)
    assert offer.canary is not None and offer.canary.canary_weight == 0.1
    w.cases.applying.apply(offer.canary.id, actor=OPERATOR)
    assert routing(w) == ("1", {"3": 0.1})
    with pytest.raises(Refused):
        w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    assert routing(w) == ("1", {"3": 0.1})


def test_a_canary_message_slack_refuses_at_confirm_is_told_and_posted_by_the_next_pass(w):
    w.lam.deploy(FN, "code-3")
    offer = w.cases.offers.propose_canary(
        "trivia", actor=OPERATOR, weight=0.1, seconds=600, reason="crash fix"
    )
    w.notifier.refuse(NotFound("Slack: could not post to C0TRIVIA (not_in_channel)."))
    change = w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    assert routing(w) == ("1", {"3": 0.1})  # the canary runs
    assert not change.announced
    told = " ".join(map(str, change.notes))
    assert "Slack refused the canary message (with its Abort button)" in told
    assert "not_in_channel" in told
    assert channel_posts(w) == []
    run_pass(w, seconds=5)  # the outbox's first pause is over: Slack takes it now
    [message] = channel_posts(w)
    assert message.startswith("trivia: canary PROD1 v1 → v3")
    assert w.store.canary_book().active("trivia").message_ts  # where its Abort button is
    run_pass(w, seconds=1)
    w.services.runtime.outbox.run()
    assert len(channel_posts(w)) == 1  # once


def test_an_abort_slack_refuses_to_announce_is_announced_once_it_heals(w):
    canary = start_canary(w)
    w.notifier.refuse(Unavailable("Slack: could not post to C0TRIVIA (service_unavailable)."))
    w.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=False)
    assert routing(w) == ("1", {})  # aborted in AWS
    assert not [t for t in channel_posts(w) if "canary aborted" in t]
    for _ in range(3):  # the outbox tries again after its pause, once Slack takes it
        w.clock.advance(seconds=31)
        w.services.runtime.outbox.run()
        run_pass(w)
    assert len([t for t in channel_posts(w) if "canary aborted" in t]) == 1
