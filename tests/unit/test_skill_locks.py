"""A skill locked by a person: every change to it is refused, from any path, naming who,
when and why, until it is unlocked; an abort is never held back; announced once."""

from __future__ import annotations

import pytest

from bot.adapters.slack import plans, reports
from bot.adapters.slack.kit import say
from bot.domain.errors import NotAuthorized, Refused, Unavailable
from bot.domain.model import Outcome
from tests.support.users import APPROVER, OPERATOR, STRANGER
from tests.support.world import make_world

FN = "trivia-skill"
LOCKED = "trivia is locked by <@U0ALICE> since 2026-03-02 09:00 UTC: incident 42"


@pytest.fixture
def w():
    return make_world()


def aliases(w):
    return {a: s.version for a, s in w.lam.functions[FN].aliases.items()}


def lock(w, actor=OPERATOR, reason="incident 42"):
    return w.cases.locking.lock("trivia", actor=actor, reason=reason)


def test_every_change_is_refused_while_locked_naming_who_when_and_why(w):
    w.lam.deploy(FN, "code-3")
    certify = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(certify.id, actor=OPERATOR)
    before = aliases(w)
    told = lock(w)
    assert say(told).startswith(LOCKED) and "`/skill unlock trivia`" in say(told)

    w.lam.deploy(FN, "code-4")
    attempts = {
        "hotfix": lambda: w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR),
        "rollback": lambda: w.cases.planning.plan("rollback", "trivia", actor=OPERATOR),
        "cancel": lambda: w.cases.planning.plan("cancel", "trivia", actor=OPERATOR),
        "prune": lambda: w.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=0),
        "promote": lambda: w.cases.promotion.promote("trivia", actor=APPROVER),
    }
    for name, attempt in attempts.items():
        with pytest.raises(Refused) as err:
            attempt()
        assert say(err.value.told).startswith(LOCKED), name
        assert "`/skill unlock trivia`" in say(err.value.told), name
    assert aliases(w) == before
    refused = [
        e.operation for e in w.cases.reading.history("trivia") if e.outcome is Outcome.REFUSED
    ]
    assert set(refused) == set(attempts)


def test_a_plan_shown_before_the_lock_is_refused_at_confirm_and_confirmable_after(w):
    w.lam.deploy(FN, "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    lock(w, actor=APPROVER)
    with pytest.raises(Refused, match="trivia is locked by"):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert aliases(w)["PROD1"] == "1"

    w.cases.locking.unlock("trivia", actor=OPERATOR)
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert change.to_version == "3" and aliases(w)["PROD1"] == "3"


def test_lock_and_unlock_are_announced_once_and_recorded(w):
    lock(w, reason="<!channel> *launch*")
    w.cases.locking.unlock("trivia", actor=APPROVER)
    texts = [p.text for p in w.notifier.top_level("C0TRIVIA")]
    assert texts == [
        ":lock: trivia locked by <@U0ALICE>: &lt;!channel&gt; *launch*. Every change to it is "
        "refused until it is unlocked.",
        ":unlock: trivia unlocked by <@U0CAROL> (locked by <@U0ALICE> since 2026-03-02 09:00 "
        "UTC). Changes are allowed again.",
    ]
    history = [(e.operation, e.outcome, e.actor) for e in w.cases.reading.history("trivia")]
    assert history[:2] == [
        ("unlock", Outcome.APPLIED, APPROVER),
        ("lock", Outcome.APPLIED, OPERATOR),
    ]
    # the outbox finds nothing owed: each was sent when it was owed
    assert w.services.runtime.outbox.run() == 0
    assert len(w.notifier.top_level("C0TRIVIA")) == 2


def test_a_lock_slack_refuses_to_announce_is_posted_by_the_outbox_once(w):
    w.notifier.refuse(Unavailable("Slack answered 503.", hint=""))
    told = say(lock(w))
    assert "Locked, but Slack refused the announcement" in told
    assert w.notifier.top_level() == []
    assert w.cases.reading.status("trivia").lock is not None  # locked all the same
    w.clock.advance(minutes=5)
    w.services.runtime.outbox.run()
    w.services.runtime.outbox.run()
    assert [p.text[:30] for p in w.notifier.top_level()] == [":lock: trivia locked by <@U0AL"]


def test_only_operators_and_approvers_lock_and_a_second_lock_keeps_the_first(w):
    for who in (STRANGER, "github:acme/trivia"):
        with pytest.raises(NotAuthorized):
            lock(w, actor=who)
    lock(w)
    with pytest.raises(Refused, match="Already locked: trivia is locked by U0ALICE"):
        lock(w, actor=APPROVER, reason="mine")
    assert w.cases.reading.status("trivia").lock.locked_by == OPERATOR
    w.cases.locking.unlock("trivia", actor=OPERATOR)
    with pytest.raises(Refused, match="trivia is not locked"):
        w.cases.locking.unlock("trivia", actor=OPERATOR)


def test_status_and_the_app_home_show_the_lock(w):
    lock(w)
    view = w.cases.reading.status("trivia")
    blocks = str(reports.status_blocks(view))
    assert ":lock: *trivia is locked by <@U0ALICE>" in blocks and "incident 42" in blocks
    assert "trivia is locked by <@U0ALICE>" in reports.status_text(view)
    home = str(w.notifier.homes)
    assert "trivia is locked by" in home


def test_a_canary_may_be_aborted_while_locked_but_not_completed(w):
    w.lam.deploy(FN, "code-3")
    offer = w.cases.offers.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600)
    w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    canary = w.services.runtime.store.canary_book().active("trivia")
    lock(w)
    with pytest.raises(Refused, match="trivia is locked by"):
        w.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=True)
    assert w.lam.functions[FN].aliases["PROD1"].routing == {"3": 0.1}
    w.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=False)
    assert w.lam.functions[FN].aliases["PROD1"].routing == {}  # weights cleared, locked or not


def test_the_certification_message_says_while_promoting_waits_for_an_unlock(w):
    w.lam.deploy(FN, "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    [message] = w.notifier.top_level("C0TRIVIA")
    assert ":lock:" not in str(message.blocks)
    lock(w)
    locked = w.notifier.updated[-1]
    assert locked.ts == message.ts
    assert f":lock: {LOCKED}: promoting waits until it is unlocked." in str(locked.blocks)
    w.cases.locking.unlock("trivia", actor=OPERATOR)
    unlocked = w.notifier.updated[-1]
    assert unlocked.ts == message.ts and ":lock:" not in str(unlocked.blocks)


def test_an_approver_may_override_a_lock_with_a_reason_and_it_is_announced():
    w = make_world(operators=[OPERATOR, APPROVER])  # Carol approves and operates
    w.lam.deploy(FN, "code-3")
    lock(w)
    with pytest.raises(Refused, match="needs a reason"):
        w.cases.planning.plan("hotfix", "trivia", actor=APPROVER, override=True)
    with pytest.raises(NotAuthorized, match="Only approvers may make a change past a lock"):
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, override=True, reason="x")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=APPROVER, override=True, reason="outage")
    assert plan.override == f"{LOCKED.replace('<@U0ALICE>', 'U0ALICE')}"
    assert ":warning: past trivia is locked by U0ALICE" in str(plans.plan_message(plan))
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)  # any operator confirms it
    assert change.to_version == "3" and aliases(w)["PROD1"] == "3"
    announced = w.notifier.top_level("C0TRIVIA")[-1]
    assert ":warning: Made past trivia is locked by U0ALICE since 2026-03-02 09:00 UTC: " in (
        announced.text
    )
    assert "with --override by <@U0CAROL>" in announced.text
    assert w.cases.reading.status("trivia").lock is not None  # the lock stays


def test_an_approver_may_promote_past_a_lock_with_override(w):
    w.lam.deploy(FN, "code-3")
    certify = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(certify.id, actor=OPERATOR)
    lock(w)
    change = w.cases.promotion.promote("trivia", actor=APPROVER, override=True, reason="launch")
    assert change.live_alias == "PROD2" and change.plan.override is not None
    assert "with --override by <@U0CAROL>" in w.notifier.top_level("C0TRIVIA")[-1].text


def test_override_is_parsed_from_slack_and_the_command_line():
    from bot.commands import parse

    assert parse("hotfix trivia --override -- outage", ["trivia"]).option("override") is True
    assert parse("promote --override -- launch", ["trivia"]).option("override") is True
    assert parse("hotfix", ["trivia"], prog="skillbot").option("override") is None


# -- approvals = N -------------------------------------------------------------------------


def two_approvals():
    w = make_world(approvers=[APPROVER, "U0DAVE", "U0ERIN"], approvals=2)
    w.lam.deploy(FN, "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    [message] = w.notifier.top_level("C0TRIVIA")
    return w, message


def react(w, message, user, *, removed=False):
    from bot.service.promotion import Reaction

    event = Reaction(
        user, "white_check_mark", "C0TRIVIA", message.ts, event_id=f"Ev{user}{removed}"
    )
    if removed:
        return w.cases.promotion.reaction_removed(event)
    return w.cases.promotion.by_reaction(event, bot_user="U0BOT")


def test_a_promotion_needs_as_many_approvers_as_approvals_says():
    w, message = two_approvals()
    assert "Approvals: 0 of 2" in str(message.blocks) and "2 approvers" in str(message.blocks)
    assert react(w, message, APPROVER) is None
    assert w.lam.read_live_alias(FN) in (None, "PROD1")  # the roles did not swap
    assert "Approvals: 1 of 2: <@U0CAROL>" in str(w.notifier.updated[-1].blocks)
    [said] = w.notifier.thread(message.ts)
    assert "<@U0CAROL> approved (1 of 2); 1 more approver' yes promotes PROD2." in said.text
    assert react(w, message, APPROVER) is None  # the same approver again counts once
    change = react(w, message, "U0DAVE")
    assert change is not None and change.live_alias == "PROD2"
    assert w.cases.reading.status("trivia").pending is None


def test_a_removed_reaction_no_longer_counts():
    w, message = two_approvals()
    react(w, message, APPROVER)
    react(w, message, APPROVER, removed=True)
    assert "Approvals: 0 of 2" in str(w.notifier.updated[-1].blocks)
    assert "<@U0CAROL> took their approval back (0 of 2)." in w.notifier.thread(message.ts)[-1].text
    assert react(w, message, "U0DAVE") is None  # one of two: still pending
    assert w.cases.reading.status("trivia").pending is not None


def test_the_starter_of_a_certification_is_not_counted_among_its_approvers():
    w = make_world(operators=[OPERATOR, APPROVER], approvers=[APPROVER, "U0DAVE"], approvals=2)
    w.lam.deploy(FN, "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=APPROVER)  # Carol starts it
    w.cases.applying.apply(plan.id, actor=APPROVER)
    with pytest.raises(NotAuthorized, match="four eyes"):
        w.cases.promotion.promote("trivia", actor=APPROVER)
    # Dave alone can never make two approvals: said at once, not after a silent wait
    with pytest.raises(Refused, match="can never have 2 approvals"):
        w.cases.promotion.promote("trivia", actor="U0DAVE")


def test_more_approvals_than_approvers_stops_the_start():
    from tests.support.world import world_config

    with pytest.raises(Exception, match="approvals: 3 approvals need as many approvers; 1 are"):
        world_config(approvals=3)
