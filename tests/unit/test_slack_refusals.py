"""Nothing Slack refuses is lost, and the person who made a change is told the truth."""

from __future__ import annotations

import pytest

from bot.adapters.slack import plans, reports
from bot.domain.errors import NotFound, Unavailable
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import make_world

NOT_IN_CHANNEL = NotFound(
    "Slack: could not post to C0TRIVIA (not_in_channel).",
    hint="Check the channel id in the skills file and invite the bot (`/invite @skillbot`).",
)


@pytest.fixture
def w():
    return make_world()


def hotfix(w, reason="crash"):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason=reason)
    return w.cases.applying.apply(plan.id, actor=OPERATOR)


def test_a_refused_announcement_is_told_and_posted_once_slack_accepts(w):
    w.notifier.refuse(NOT_IN_CHANNEL)
    change = hotfix(w)
    assert w.alias("PROD1") == "3", "the change itself is made"
    text, _ = plans.result_message(change)
    assert not text.startswith("Done") and "not announced yet" in text
    assert "not_in_channel" in text and "/invite @skillbot" in text
    assert w.notifier.top_level() == []

    w.notifier.refuse(NOT_IN_CHANNEL)  # still refused at the first retry
    w.clock.advance(seconds=6)
    assert w.services.runtime.outbox.run() == 0
    w.clock.advance(seconds=4)  # the pause doubled: 10 s
    assert w.services.runtime.outbox.run() == 0
    w.clock.advance(seconds=7)
    assert w.services.runtime.outbox.run() == 1
    assert [p.text for p in w.notifier.top_level()] == [
        "trivia: hotfix PROD1 v1 → v3 by <@U0ALICE> — crash"
    ]
    w.clock.advance(minutes=10)
    assert w.services.runtime.outbox.run() == 0, "posted once"
    assert len(w.notifier.top_level()) == 1


def test_slacks_retry_after_is_waited_out_before_trying_again(w):
    w.notifier.refuse(Unavailable("Slack: ratelimited.", retry_after=30.0))
    hotfix(w)
    w.clock.advance(seconds=20)
    assert w.services.runtime.outbox.run() == 0
    assert w.notifier.attempts == 1
    w.clock.advance(seconds=10)  # exactly what Slack asked
    assert w.services.runtime.outbox.run() == 1
    assert len(w.notifier.top_level()) == 1


def test_a_post_whose_answer_was_lost_is_looked_up_not_doubled(w):
    w.notifier.lost_answers = 1  # Slack made the post; its answer never came back
    change = hotfix(w)
    text, _ = plans.result_message(change)
    assert text.startswith("Done"), "found by its key in the channel: announced"
    w.clock.advance(hours=1)
    assert w.services.runtime.outbox.run() == 0
    assert w.notifier.attempts == 1 and len(w.notifier.top_level()) == 1


def test_a_post_whose_outcome_stays_unknown_is_told_and_looked_up_before_posting_again(w):
    lost = Unavailable("Slack did not answer.", outcome_unknown=True)
    w.notifier.refuse(lost, times=3)  # three attempts, none reached Slack, no answer
    change = hotfix(w)
    text, _ = plans.result_message(change)
    assert "may have been posted" in text and "never doubled" in text
    w.clock.advance(seconds=6)
    assert w.services.runtime.outbox.run() == 1  # not found in the channel: posted now
    assert w.notifier.attempts == 4 and len(w.notifier.top_level()) == 1


def test_a_refused_certification_message_is_shown_in_status_and_posted_later(w):
    w.lam.deploy("trivia-skill", "code-3")
    w.notifier.refuse(NOT_IN_CHANNEL)
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="quiz")
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    text, _ = plans.result_message(change)
    assert "certification message" in text and "/skill promote trivia" in text
    cert = w.store.pending_certification("trivia")
    assert cert.message_ts is None
    view = w.cases.reading.status("trivia")
    status = str(reports.status_blocks(view))
    assert "certification message is not posted yet" in status

    w.clock.advance(seconds=6)
    assert w.services.runtime.outbox.run() == 1
    [message] = w.notifier.top_level()
    assert w.store.pending_certification("trivia").message_ts == message.ts
    assert w.services.runtime.outbox.run() == 0


def test_a_certification_cancelled_before_its_message_was_posted_is_still_posted_once(w):
    w.lam.deploy("trivia-skill", "code-3")
    w.notifier.refuse(NOT_IN_CHANNEL, times=3)  # the certification message, then retries
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="quiz")
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    cancel = w.cases.planning.plan("cancel", "trivia", actor=OPERATOR, reason="wrong build")
    w.cases.applying.apply(cancel.id, actor=OPERATOR)
    assert w.notifier.top_level() == [] and w.notifier.updated == []
    for _ in range(6):  # Slack heals during the retries
        w.clock.advance(seconds=40)
        w.services.runtime.outbox.run()
    [message] = w.notifier.top_level("C0TRIVIA")
    # the alias move, then the cancel: the one certification message, updated, and its thread
    assert message.text.startswith("trivia: certify PROD2 v2 → v3 by <@U0ALICE> — quiz")
    [update] = w.notifier.updated
    assert update.ts == message.ts and "cancelled by <@U0ALICE>" in str(update.blocks)
    [reply] = w.notifier.thread(message.ts)
    assert "cancel" in reply.text


def certify_v3(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="quiz")
    return w.cases.applying.apply(plan.id, actor=OPERATOR).certification


def promotions(w):
    return [p for p in w.notifier.top_level("C0TRIVIA") if "promote" in p.text]


def shown_state(w):
    return str(w.notifier.updated[-1].blocks) if w.notifier.updated else ""


def test_an_update_refused_at_promotion_is_made_again_and_the_promotion_announced_once(w):
    cert = certify_v3(w)
    w.notifier.refuse(Unavailable("Slack: could not update (503)."), times=1, updates=True)
    w.cases.promotion.promote("trivia", actor=APPROVER)
    assert len(promotions(w)) == 1
    assert "promoted by" not in shown_state(w)
    for _ in range(3):
        w.clock.advance(seconds=40)
        w.services.runtime.outbox.run()
    assert len(promotions(w)) == 1, "announced once"
    assert "promoted by <@U0CAROL>" in shown_state(w)
    assert w.store.get_certification(cert.id).state.value == "promoted"


def test_a_refused_promotion_announcement_still_updates_the_certification_message(w):
    certify_v3(w)
    w.notifier.refuse(NOT_IN_CHANNEL)
    w.cases.promotion.promote("trivia", actor=APPROVER)
    assert promotions(w) == []
    assert "promoted by <@U0CAROL>" in shown_state(w)  # not left "pending"
    for _ in range(3):
        w.clock.advance(seconds=40)
        w.services.runtime.outbox.run()
    assert len(promotions(w)) == 1
