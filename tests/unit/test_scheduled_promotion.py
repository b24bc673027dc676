"""``/skill promote --at TIME``: the promotion runs at TIME, once across replicas and
restarts (a time missed while the bot was down runs at start), refused then if the skill
is locked or frozen (the thread says so); shown in status and the certification message;
``--at cancel`` takes it back."""

from __future__ import annotations

import pytest

from bot.adapters.slack import reports
from bot.adapters.slack.kit import say
from bot.commands import parse
from bot.domain.errors import Refused
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import make_world

FN = "trivia-skill"


@pytest.fixture
def w():
    # the fake clock: Monday 2 March 2026, 09:00 UTC
    world = make_world()
    world.lam.deploy(FN, "code-3")
    plan = world.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    world.cases.applying.apply(plan.id, actor=OPERATOR)
    return world


def live(w) -> str:
    return w.cases.reading.status("trivia").roles.live_alias


def test_the_promotion_runs_at_its_time_once(w):
    said = say(w.cases.promotion.schedule("trivia", actor=APPROVER, at="10:00"))
    assert said.startswith(
        "<@U0CAROL> scheduled the promotion of PROD2 for Mon 2026-03-02 10:00 (UTC)"
    )
    message = w.notifier.updated[-1]
    assert ":alarm_clock: Promotion scheduled for Mon 2026-03-02 10:00 (UTC) by <@U0CAROL>" in str(
        message.blocks
    )
    view = w.cases.reading.status("trivia")
    assert "Promotion scheduled for Mon 2026-03-02 10:00 (UTC)" in str(reports.status_blocks(view))

    assert w.services.runtime.promotion.run_due() == 0
    w.clock.advance(minutes=59)
    assert w.services.runtime.promotion.run_due() == 0 and live(w) == "PROD1"
    w.clock.advance(minutes=1)
    assert w.services.runtime.promotion.run_due() == 1 and live(w) == "PROD2"
    assert w.services.runtime.promotion.run_due() == 0
    promoted = [p.text for p in w.notifier.top_level("C0TRIVIA") if "promoted" in p.text]
    assert len(promoted) == 1 and "by <@U0CAROL>" in promoted[0]


def test_a_time_missed_while_the_bot_was_down_runs_at_start_once(w):
    w.cases.promotion.schedule("trivia", actor=APPROVER, at="2026-03-02 10:00")
    w.clock.advance(hours=5)  # the bot was down at 10:00
    assert w.services.runtime.promotion.run_due() == 1 and live(w) == "PROD2"


def test_a_promotion_claimed_by_a_process_that_died_is_run_again(w):
    w.cases.promotion.schedule("trivia", actor=APPROVER, at="10:00")
    w.clock.advance(hours=1)
    store = w.services.runtime.store
    [due] = store.due_promotions(w.clock(), stale=w.clock())
    claimed = store.move_scheduled(due.certification_id, "scheduled", "running", at=w.clock())
    assert claimed  # then kill -9
    assert w.services.runtime.promotion.run_due() == 0  # another process may still run it
    w.clock.advance(minutes=11)
    assert w.services.runtime.promotion.run_due() == 1 and live(w) == "PROD2"


def test_cancel_takes_it_back(w):
    w.cases.promotion.schedule("trivia", actor=APPROVER, at="10:00")
    said = say(w.cases.promotion.schedule("trivia", actor=APPROVER, at="cancel"))
    assert said == "<@U0CAROL> cancelled the scheduled promotion."
    w.clock.advance(hours=2)
    assert w.services.runtime.promotion.run_due() == 0 and live(w) == "PROD1"
    with pytest.raises(Refused, match="No promotion of trivia is scheduled"):
        w.cases.promotion.schedule("trivia", actor=APPROVER, at="cancel")


def test_at_its_time_a_locked_skill_is_not_promoted_and_the_thread_says_so(w):
    w.cases.promotion.schedule("trivia", actor=APPROVER, at="10:00")
    w.cases.locking.lock("trivia", actor=OPERATOR, reason="incident 42")
    w.clock.advance(hours=1)
    assert w.services.runtime.promotion.run_due() == 1 and live(w) == "PROD1"
    cert = w.cases.reading.status("trivia").pending
    told = w.notifier.thread(cert.message_ts)[-1].text
    assert told.startswith(":warning: The scheduled promotion did not run: trivia is locked by")
    w.clock.advance(hours=1)
    assert w.services.runtime.promotion.run_due() == 0  # refused once, not tried again


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        ("25:00", "'25:00' is not a time of day"),
        ("2026-03-01 09:00", "'2026-03-01 09:00' has passed"),
        ("next week", "is not a time like"),
        ("2028-03-01 09:00", "more than a year away"),
    ],
)
def test_a_time_that_cannot_be_is_refused(w, at, problem):
    with pytest.raises(Refused, match=problem):
        w.cases.promotion.schedule("trivia", actor=APPROVER, at=at)
    assert w.cases.reading.status("trivia").scheduled is None


def test_only_approvers_schedule_and_slack_takes_a_date_and_a_time():
    from bot.domain.errors import NotAuthorized

    w = make_world()
    with pytest.raises(NotAuthorized):
        w.cases.promotion.schedule("trivia", actor=OPERATOR, at="10:00")
    command = parse("promote --at 2026-12-10 09:00 -- launch day", ["trivia"])
    assert command.option("at") == "2026-12-10 09:00" and command.reason == "launch day"
    assert parse("promote --at cancel", ["trivia"]).option("at") == "cancel"
