"""A ready skill on the fake Lambda: PROD1 → v1 (live), PROD2 → v2, for service tests.

The services are composed exactly as a real start composes them
(:func:`bot.bootstrap.compose`), over the fakes: no Slack, no AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.adapters.store import SqlStore, open_store
from bot.bootstrap import Composed, UseCases, compose
from bot.config import Settings, parse_skills
from bot.domain.model import Placement, Skill
from tests.support.canary import FakeMetrics
from tests.support.fakes import SKILL_ID, FakeClock, FakeLambda, FakeNotifier
from tests.support.users import APPROVER, OPERATOR


def trivia_skill(function: str = "trivia-skill") -> Skill:
    return Skill(
        "trivia", (Placement("NA", function),), SKILL_ID, ("PROD1", "PROD2"), "PROD1", "C0TRIVIA"
    )


def world_config(
    function: str = "trivia-skill", *, entry: Mapping[str, Any] | None = None, **overrides: Any
) -> Any:
    """The skills file of the world: one skill (``entry`` adds keys to its entry),
    operators Alice and Bob, approver Carol; ``overrides`` the top-level keys."""
    skill = trivia_skill(function)
    return parse_skills(
        {
            "announce_channel": "C0ANNOUNCE",
            "operators": [OPERATOR, "U0BOB"],
            "approvers": [APPROVER],
            "skills": {
                "trivia": {
                    "function": skill.placements[0].function,
                    "alexa_skill_id": skill.alexa_skill_id,
                    "channel": skill.channel,
                    **(entry or {}),
                }
            },
            **overrides,
        }
    )


def compose_over(
    lambda_: Any,
    store: SqlStore,
    clock: Any,
    notifier: Any = None,
    *,
    function: str = "trivia-skill",
    lock_timeout: float = 2,
    smapi: Any = None,
    metrics: Any = None,
    **config_overrides: Any,
) -> Composed:
    """The real composition over the given Lambda (a fake, or the adapter over moto)."""
    return compose(
        Settings(_env_file=None),  # type: ignore[call-arg]
        world_config(function, **config_overrides),
        lambda_=lambda_,
        store=store,
        notifier=notifier if notifier is not None else FakeNotifier(),
        smapi=smapi,
        clock=clock,
        region="eu-west-1",
        lock_timeout=lock_timeout,
        metrics=metrics if metrics is not None else FakeMetrics(),
    )


@dataclass
class World:
    services: Composed
    lam: FakeLambda
    store: SqlStore
    clock: FakeClock
    skill: Skill
    notifier: FakeNotifier
    metrics: FakeMetrics

    @property
    def cases(self) -> UseCases:
        return self.services.cases

    def alias(self, name: str) -> str:
        return self.lam.functions[self.skill.placements[0].function].aliases[name].version


def make_world(
    store: SqlStore | None = None, clock: FakeClock | None = None, **config_overrides: Any
) -> World:
    lam = FakeLambda()
    skill = trivia_skill()
    lam.add_function(skill.placements[0].function, "code-1")
    lam.publish_now(skill.placements[0].function)  # v1
    lam.deploy(skill.placements[0].function, "code-2")
    lam.publish_now(skill.placements[0].function)  # v2
    lam.point(skill.placements[0].function, "PROD1", "1")
    lam.point(skill.placements[0].function, "PROD2", "2")
    lam.calls.clear()
    store = store or open_store("sqlite://")
    clock = clock or FakeClock()
    notifier = FakeNotifier()
    metrics = FakeMetrics()
    services = compose_over(lam, store, clock, notifier, metrics=metrics, **config_overrides)
    return World(services, lam, store, clock, skill, notifier, metrics)


def services_for(world: World, notifier: Any = None) -> Composed:
    """The world's services, or the same composition posting to ``notifier``."""
    if notifier is None or notifier is world.notifier:
        return world.services
    return compose_over(world.lam, world.store, world.clock, notifier)
