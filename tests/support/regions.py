"""A skill served from three regions on the fake Lambda: the default function (NA), EU's
and FE's, each with PROD1 (live) and PROD2 on the same code but on other version numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.adapters.store import open_store
from bot.bootstrap import Services, compose
from bot.config import Settings, parse_skills
from bot.domain.model import Skill
from bot.service.rotation import RotationService
from tests.support.canary import FakeMetrics
from tests.support.fakes import SKILL_ID, FakeClock, FakeLambda, FakeNotifier
from tests.support.users import APPROVER, OPERATOR

NA = "trivia-skill"
EU = "arn:aws:lambda:eu-west-1:123456789012:function:trivia"
FE = "arn:aws:lambda:us-west-2:123456789012:function:trivia"
FUNCTIONS = {"NA": NA, "EU": EU, "FE": FE}


def regional_config(**entry: Any) -> Any:
    return parse_skills(
        {
            "announce_channel": "C0ANNOUNCE",
            "operators": [OPERATOR, "U0BOB"],
            "approvers": [APPROVER],
            "skills": {
                "trivia": {
                    "function": NA,
                    "alexa_skill_id": SKILL_ID,
                    "channel": "C0TRIVIA",
                    "regional_functions": {"EU": EU, "FE": FE},
                    **entry,
                }
            },
        }
    )


@dataclass
class RegionalWorld:
    services: Services
    lam: FakeLambda
    clock: Any
    notifier: FakeNotifier
    skill: Skill

    @property
    def service(self) -> RotationService:
        return self.services.rotation

    def aliases(self, alias: str) -> dict[str, str]:
        """``alias``'s version in each region."""
        return {r: self.lam.functions[f].aliases[alias].version for r, f in FUNCTIONS.items()}

    def codes(self, alias: str) -> set[str]:
        """The code ``alias`` serves, across regions (one element when in lockstep)."""
        return {
            self.lam.functions[f].versions[self.lam.functions[f].aliases[alias].version].code_sha256
            for f in FUNCTIONS.values()
        }

    def deploy(self, code: str) -> None:
        for function in FUNCTIONS.values():
            self.lam.deploy(function, code)


def compose_regional(
    lambda_: Any, *, smapi: Any = None, polling: Any = None, gateway: Any = None, **entry: Any
) -> tuple[Services, FakeNotifier, Skill]:
    """The real composition over ``lambda_`` (the fake, or the adapter over moto) with the
    three-region skill (and SMAPI, API Gateway when given)."""
    notifier = FakeNotifier()
    config = regional_config(**entry)
    services = compose(
        Settings(_env_file=None),  # type: ignore[call-arg]
        config,
        lambda_=lambda_,
        store=open_store("sqlite://"),
        notifier=notifier,
        clock=FakeClock(),
        region="us-east-1",
        lock_timeout=2,
        metrics=FakeMetrics(),
        smapi=smapi,
        polling=polling,
        gateway=gateway,
    )
    return services, notifier, config.to_skills()["trivia"]


def make_regional_world(lam: FakeLambda | None = None, **entry: Any) -> RegionalWorld:
    """NA: v1 code-1, v2 code-2; EU: v1 code-0, v2 code-1, v3 code-2; FE like NA.
    PROD1 (live) serves code-1 everywhere, PROD2 code-2."""
    lam = lam or FakeLambda()
    for region, function in FUNCTIONS.items():
        codes = ["code-0", "code-1", "code-2"] if region == "EU" else ["code-1", "code-2"]
        lam.add_function(function, codes[0])
        for code in codes:
            lam.deploy(function, code)
            lam.publish_now(function)
        lam.point(function, "PROD1", str(len(codes) - 1))
        lam.point(function, "PROD2", str(len(codes)))
    lam.calls.clear()
    services, notifier, skill = compose_regional(lam, **entry)
    return RegionalWorld(services, lam, services.clock, notifier, skill)  # type: ignore[arg-type]


class FlakyLambda(FakeLambda):
    """The fake Lambda whose next ``update_alias`` of one function fails: before AWS acts
    (``lost=False``), or after it acted with the answer lost (``lost=True``)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: dict[str, tuple[Exception, bool]] = {}

    def fail_update(self, function: str, error: Exception, *, lost: bool = False) -> None:
        self.failures[function] = (error, lost)

    def update_alias(  # type: ignore[no-untyped-def]
        self, function, alias, version, revision_id, *, clear_routing
    ):
        failure = self.failures.pop(function, None)
        if failure is not None and not failure[1]:
            raise failure[0]
        state = super().update_alias(
            function, alias, version, revision_id, clear_routing=clear_routing
        )
        if failure is not None:
            raise failure[0]
        return state
