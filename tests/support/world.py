"""A ready skill on the fake Lambda: PROD1 → v1 (live), PROD2 → v2, for service tests."""

from __future__ import annotations

from dataclasses import dataclass

from bot.adapters.store import SqlStore, open_store
from bot.domain.model import Skill
from bot.services import AccessPolicy, RotationService
from tests.support.fakes import SKILL_ID, FakeClock, FakeLambda

OPERATOR = "U0ALICE"
APPROVER = "U0CAROL"
STRANGER = "U0MALLORY"


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
