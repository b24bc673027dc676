"""A ready skill on the fake Lambda: PROD1 → v1 (live), PROD2 → v2, for service tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.adapters.store import SqlStore, open_store
from bot.announcer import Announcer
from bot.config import Settings, parse_skills
from bot.domain.model import Skill
from bot.services import AccessPolicy, RotationService
from bot.wiring import Services
from tests.support.fakes import SKILL_ID, FakeClock, FakeLambda, FakeNotifier
from tests.support.users import APPROVER, OPERATOR


def trivia_skill(function: str = "trivia-skill") -> Skill:
    return Skill("trivia", function, SKILL_ID, ("PROD1", "PROD2"), "PROD1", "C0TRIVIA")


@dataclass
class World:
    service: RotationService
    lam: FakeLambda
    store: SqlStore
    clock: FakeClock
    skill: Skill

    def alias(self, name: str) -> str:
        return self.lam.functions[self.skill.function].aliases[name].version


def make_world(store: SqlStore | None = None, clock: FakeClock | None = None) -> World:
    lam = FakeLambda()
    skill = trivia_skill()
    lam.add_function(skill.function, "code-1")
    lam.publish_now(skill.function)  # v1
    lam.deploy(skill.function, "code-2")
    lam.publish_now(skill.function)  # v2
    lam.point(skill.function, "PROD1", "1")
    lam.point(skill.function, "PROD2", "2")
    lam.calls.clear()
    store = store or open_store("sqlite://")
    clock = clock or FakeClock()
    service = RotationService(
        {skill.name: skill},
        lam,
        store,
        AccessPolicy(frozenset({OPERATOR, "U0BOB"}), frozenset({APPROVER})),
        clock,
        lock_timeout=2,
    )
    return World(service, lam, store, clock, skill)


def services_for(world: World, notifier: Any = None) -> Services:
    """The composition a real start builds, over the world's fakes (no Slack, no AWS)."""
    notifier = notifier or FakeNotifier()
    config = parse_skills(
        {
            "announce_channel": "C0ANNOUNCE",
            "operators": [OPERATOR, "U0BOB"],
            "approvers": [APPROVER],
            "skills": {
                "trivia": {
                    "function": world.skill.function,
                    "alexa_skill_id": world.skill.alexa_skill_id,
                    "channel": world.skill.channel,
                }
            },
        }
    )
    announcer = Announcer(
        notifier,
        world.store,
        world.service.skills,
        approvers=config.approvers,
        reaction=config.promote_reaction,
        region="eu-west-1",
        clock=world.clock,
    )
    return Services(
        settings=Settings(_env_file=None),  # type: ignore[call-arg]
        config=config,
        skills=world.service.skills,
        store=world.store,
        lambda_=world.lam,
        rotation=world.service,
        notifier=notifier,
        announcer=announcer,
        clock=world.clock,
        region="eu-west-1",
    )
