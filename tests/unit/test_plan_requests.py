"""Plans from the command line over the fakes: a pipeline plans, applies only when listed,
posts its plan for an operator's Confirm, and reads the outcome back."""

from __future__ import annotations

import pytest

from bot.adapters.slack import kit
from bot.domain.errors import NotAuthorized
from bot.service.applying import AlreadyHandled
from tests.support.messages import button_value
from tests.support.users import OPERATOR, STRANGER
from tests.support.world import compose_over, make_world

PIPELINE = "github:acme/trivia"
RUN = "https://github.com/acme/trivia/actions/runs/7"


@pytest.fixture
def w():
    world = make_world()
    world.lam.deploy("trivia-skill", "code-3")
    return world


def listed(w):
    """The world's services with the pipeline listed in ``pipelines``."""
    return compose_over(w.lam, w.store, w.clock, w.notifier, pipelines=[PIPELINE]).cases


def test_a_listed_pipeline_applies_and_is_announced_by_name_with_its_run(w):
    rotation = listed(w)
    offer = rotation.offers.propose(
        "hotfix", "trivia", actor=PIPELINE, reason="<!here> fix", run_url=RUN
    )
    rotation.applying.apply(offer.plan.id, actor=PIPELINE)

    assert w.alias("PROD1") == "3"
    [announcement] = w.notifier.top_level("C0TRIVIA")
    assert announcement.text == (
        f"trivia: hotfix PROD1 v1 → v3 by {PIPELINE} (run <{RUN}|7>) — &lt;!here&gt; fix"
    )
    applied = [e for e in w.store.audit("trivia") if e.outcome == "applied"]
    assert [e.actor for e in applied] == [PIPELINE]


def test_an_unlisted_pipeline_may_plan_but_not_apply(w):
    offer = w.cases.offers.propose("hotfix", "trivia", actor=PIPELINE, run_url=RUN)
    with pytest.raises(NotAuthorized) as refused:
        w.cases.applying.apply(offer.plan.id, actor=PIPELINE)
    assert "not listed in `pipelines`" in refused.value.message
    assert "--request" in refused.value.hint
    assert w.alias("PROD1") == "1" and w.notifier.posted == []


def test_a_person_who_is_no_operator_still_may_not_plan(w):
    with pytest.raises(NotAuthorized):
        w.cases.offers.propose("hotfix", "trivia", actor=STRANGER)


def test_a_request_is_posted_with_the_buttons_and_applied_by_an_operator(w):
    offer = w.cases.offers.propose(
        "hotfix", "trivia", actor=PIPELINE, reason="a <b> & c", run_url=RUN
    )
    posted = w.cases.requests.post(offer.plan, note=offer.note, offer_submit=offer.offer_submit)

    [message] = w.notifier.top_level("C0TRIVIA")
    assert (posted.channel, posted.ts) == ("C0TRIVIA", message.ts)
    assert message.text.startswith(f"{PIPELINE} (run <{RUN}|7>) asks an operator to confirm")
    as_sent = {"blocks": message.blocks}
    assert button_value(as_sent, kit.CONFIRM) == offer.plan.id
    assert button_value(as_sent, kit.DISMISS) == offer.plan.id
    assert "a &lt;b&gt; &amp; c" in str(message.blocks) and "<b>" not in str(message.blocks)
    assert w.cases.requests.outcome(offer.plan.id).status == "pending"

    w.cases.applying.apply(offer.plan.id, actor=OPERATOR)

    outcome = w.cases.requests.outcome(offer.plan.id)
    assert outcome.decided and outcome.applied
    assert outcome.attempt is not None and outcome.attempt.actor == OPERATOR
    assert (outcome.attempt.from_version, outcome.attempt.to_version) == ("1", "3")
    assert w.cases.requests.withdraw(posted, "too late") is False
    assert w.notifier.updated == []


def test_a_withdrawn_request_can_no_longer_be_confirmed(w):
    offer = w.cases.offers.propose("hotfix", "trivia", actor=PIPELINE)
    posted = w.cases.requests.post(offer.plan, note=offer.note, offer_submit=offer.offer_submit)

    assert w.cases.requests.withdraw(posted, "Nobody confirmed within 30m") is True

    [closed] = w.notifier.updated
    assert closed.ts == posted.ts and closed.text.startswith("Nobody confirmed within 30m")
    assert "plan_confirm" not in str(closed.blocks)
    assert w.cases.requests.outcome(offer.plan.id).status == "expired"
    with pytest.raises(AlreadyHandled):
        w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    assert w.alias("PROD1") == "1"


def test_the_outcome_of_a_refused_or_dismissed_plan_says_so(w):
    offer = w.cases.offers.propose("hotfix", "trivia", actor=OPERATOR)
    w.lam.point("trivia-skill", "PROD1", "2")  # moved elsewhere: the plan is stale
    with pytest.raises(Exception, match="moved"):
        w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    stale = w.cases.requests.outcome(offer.plan.id)
    assert (stale.status, stale.decided, stale.applied) == ("stale", True, False)
    assert stale.attempt is not None and "moved" in stale.attempt.detail

    dismissed = w.cases.offers.propose("hotfix", "trivia", actor=OPERATOR)
    w.cases.applying.dismiss(dismissed.plan.id, actor=OPERATOR)
    assert w.cases.requests.outcome(dismissed.plan.id).status == "dismissed"
    assert w.cases.requests.outcome("no-such-plan").status == "unknown"
