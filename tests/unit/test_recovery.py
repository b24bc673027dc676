"""What a crash leaves behind is finished once, or released to be confirmed again."""

from __future__ import annotations

import pytest

from bot.domain.model import CertificationState, Outcome
from tests.support.users import OPERATOR
from tests.support.world import make_world, services_for


@pytest.fixture
def env():
    world = make_world()
    return world, services_for(world), world.notifier


def crash_after_aws(world, plan):
    """What a kill -9 right after AWS answered leaves: AWS changed, the plan 'applying'."""
    world.store.claim_plan(plan.id)
    target = world.lam.publish_now("trivia-skill") if plan.to_version is None else plan.to_version
    world.lam.point("trivia-skill", plan.alias, target)


def test_a_plan_whose_change_reached_aws_is_completed_and_announced_once(env):
    world, services, notifier = env
    world.lam.deploy("trivia-skill", "code-3")
    plan = world.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="crash")
    crash_after_aws(world, plan)
    report = services.runtime.recovery.run()
    assert report.completed == [plan.summary()]
    assert world.store.plan_status(plan.id) == "applied"
    assert [p.text for p in notifier.top_level()] == [
        "trivia: hotfix PROD1 v1 → v3 by <@U0ALICE> — crash"
    ]
    assert not services.runtime.recovery.run(), "a second run finds nothing"
    assert len(notifier.top_level()) == 1


def test_a_change_left_applying_is_finished_before_the_next_confirm_moves_the_alias(env):
    """The next Confirm (any replica) finishes it first, before recovery's next run: a
    later move would hide that AWS did change, and the change would never be told."""
    world, services, notifier = env
    world.lam.deploy("trivia-skill", "code-3")
    left = world.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="first")
    crash_after_aws(world, left)  # PROD1 on v3, the plan "applying", its process dead
    world.lam.deploy("trivia-skill", "code-4")
    after = world.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="second")
    world.cases.applying.apply(after.id, actor=OPERATOR)
    assert world.store.plan_status(left.id) == "applied"
    assert [p.text for p in notifier.top_level()] == [
        "trivia: hotfix PROD1 v1 → v3 by <@U0ALICE> — first",
        "trivia: hotfix PROD1 v3 → v4 by <@U0ALICE> — second",
    ]
    assert not services.runtime.recovery.run(), "nothing left for recovery"


def test_a_certify_cut_short_records_the_certification_and_posts_its_message(env):
    world, services, notifier = env
    world.lam.deploy("trivia-skill", "code-3")
    plan = world.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="quiz")
    crash_after_aws(world, plan)
    services.runtime.recovery.run()
    cert = world.store.pending_certification("trivia")
    assert (cert.alias, cert.version, cert.requested_by) == ("PROD2", "3", OPERATOR)
    [message] = notifier.top_level()
    assert message.text == "trivia: certify PROD2 v2 → v3 by <@U0ALICE> — quiz"
    assert world.store.get_certification(cert.id).message_ts == message.ts


def test_a_plan_that_never_reached_aws_is_released_and_can_be_confirmed_again(env):
    world, services, notifier = env
    plan = world.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    world.store.claim_plan(plan.id)  # claimed, then the process died before AWS
    report = services.runtime.recovery.run()
    assert report.interrupted == [plan.summary()]
    assert world.store.audit("trivia", 1)[0].outcome is Outcome.FAILED
    assert notifier.posted == []
    world.cases.applying.apply(plan.id, actor=OPERATOR)
    assert world.alias("PROD1") == "2"


def test_a_live_owner_is_left_alone(env):
    world, services, _ = env
    plan = world.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    world.store.claim_plan(plan.id)
    with world.store.skill_lock("trivia", timeout=1):  # the owner is still applying
        assert not services.runtime.recovery.run()
    assert world.store.plan_status(plan.id) == "applying"


def test_a_promotion_cut_short_after_the_tag_is_completed(env):
    world, services, notifier = env
    world.lam.deploy("trivia-skill", "code-3")
    change = world.cases.applying.apply(
        world.cases.planning.plan("certify", "trivia", actor=OPERATOR).id, actor=OPERATOR
    )
    services.runtime.announcer.change_applied(change)
    # what promote leaves when killed right after the tag: its trace, and the tag
    world.store.mark_promoting(change.certification.id, world.clock())
    world.lam.write_live_alias("trivia-skill", "PROD2")
    report = services.runtime.recovery.run()
    assert report.promotions == ["trivia PROD2"]
    cert = world.store.get_certification(change.certification.id)
    assert cert.state is CertificationState.PROMOTED
    assert any("promoted" in p.text for p in notifier.top_level())


def test_a_change_cut_off_before_its_announcement_is_announced_once_by_any_process(env):
    world, services, notifier = env
    plan = world.cases.planning.plan(
        "rollback", "trivia", actor=OPERATOR, version="2", reason="slow"
    )
    world.cases.applying.apply_only(plan.id, actor=OPERATOR)  # then kill -9 before announcing
    # owed with its record: the first process to claim it posts it, now
    assert services.runtime.recovery.run().sent == 1
    assert [p.text for p in notifier.top_level()] == [
        "trivia: rollback PROD1 v1 → v2 by <@U0ALICE> — slow"
    ]
    world.clock.advance(minutes=1)
    assert not services.runtime.recovery.run()
    assert len(notifier.top_level()) == 1


def test_a_change_recorded_without_its_messages_is_announced_after_the_grace_period(env):
    world, services, notifier = env
    # what an earlier version of the bot (or a crash between record and owing) leaves
    plan = world.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    world.cases.applying.ctx.record_change(
        world.cases.applying.moves.apply(
            world.skill,
            plan,
            OPERATOR,
            resumed=False,
            alias_change=world.cases.applying._alias_change,
        ),
        OPERATOR,
        finish_plan=True,
    )
    assert not services.runtime.recovery.run(), "too recent: its owner may still owe it"
    world.clock.advance(minutes=1)
    report = services.runtime.recovery.run()
    assert len(report.owed) == 1 and report.sent == 1
    [announcement] = notifier.top_level()
    assert "rollback PROD1 v1 → v2" in announcement.text
    assert not services.runtime.recovery.run()


def test_an_announced_change_is_not_announced_again(env):
    world, services, notifier = env
    plan = world.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    services.runtime.announcer.change_applied(world.cases.applying.apply(plan.id, actor=OPERATOR))
    world.clock.advance(minutes=5)
    assert not services.runtime.recovery.run()
    assert len(notifier.top_level()) == 1


def test_a_promotion_that_died_before_the_tag_only_loses_its_trace(env):
    world, services, _notifier = env
    world.lam.deploy("trivia-skill", "code-3")
    change = world.cases.applying.apply(
        world.cases.planning.plan("certify", "trivia", actor=OPERATOR).id, actor=OPERATOR
    )
    world.store.mark_promoting(change.certification.id, world.clock())  # then kill -9
    assert not services.runtime.recovery.run().promotions
    assert world.store.promotions_under_way() == []
    assert world.store.pending_certification("trivia") is not None
    assert world.lam.read_live_alias("trivia-skill") is None


def test_a_certification_message_lost_in_a_crash_is_posted_once(env):
    world, services, notifier = env
    world.lam.deploy("trivia-skill", "code-3")
    plan = world.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    world.cases.applying.apply_only(plan.id, actor=OPERATOR)  # then kill -9 before posting
    assert services.runtime.recovery.run().sent == 1
    assert services.runtime.recovery.run().sent == 0
    [message] = notifier.top_level()
    assert world.store.pending_certification("trivia").message_ts == message.ts
