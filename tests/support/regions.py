"""A skill served from three regions on the fake Lambda: the default function (NA), EU's
and FE's, each with PROD1 (live) and PROD2 on the same code but on other version numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.adapters.store import open_store
from bot.bootstrap import Composed, UseCases, compose
from bot.config import Settings
from bot.domain.model import Skill
from tests.support.canary import FakeMetrics
from tests.support.fakes import FakeClock, FakeLambda, FakeNotifier
from tests.support.world import world_config

NA = "trivia-skill"
EU = "arn:aws:lambda:eu-west-1:123456789012:function:trivia"
FE = "arn:aws:lambda:us-west-2:123456789012:function:trivia"
FUNCTIONS = {"NA": NA, "EU": EU, "FE": FE}


def regional_config(**entry: Any) -> Any:
    return world_config(NA, entry={"regional_functions": {"EU": EU, "FE": FE}, **entry})


@dataclass
class RegionalWorld:
    services: Composed
    lam: FakeLambda
    clock: Any
    notifier: FakeNotifier
    skill: Skill
    metrics: FakeMetrics

    @property
    def cases(self) -> UseCases:
        return self.services.cases

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
    lambda_: Any,
    *,
    smapi: Any = None,
    polling: Any = None,
    metrics: Any = None,
    gateway: Any = None,
    **entry: Any,
) -> tuple[Composed, FakeNotifier, Skill]:
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
        metrics=metrics if metrics is not None else FakeMetrics(),
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
    metrics = FakeMetrics()
    services, notifier, skill = compose_regional(lam, metrics=metrics, **entry)
    return RegionalWorld(
        services,
        lam,
        services.runtime.clock,  # type: ignore[arg-type]
        notifier,
        skill,
        metrics,
    )


class FlakyLambda(FakeLambda):
    """The fake Lambda whose next alias change (``update_alias``, or ``route`` for a
    canary's weights) of one function fails: before AWS acts (``lost=False``), or after
    it acted with the answer lost (``lost=True``)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: dict[tuple[str, str], tuple[Exception, bool]] = {}

    def fail_update(self, function: str, error: Exception, *, lost: bool = False) -> None:
        self.failures[("update_alias", function)] = (error, lost)

    def fail_route(self, function: str, error: Exception, *, lost: bool = False) -> None:
        self.failures[("route", function)] = (error, lost)

    def _failing(self, call: str, function: str, change: Any) -> Any:
        failure = self.failures.pop((call, function), None)
        if failure is not None and not failure[1]:
            raise failure[0]
        state = change()
        if failure is not None:
            raise failure[0]
        return state

    def update_alias(  # type: ignore[no-untyped-def]
        self, function, alias, version, revision_id, *, clear_routing
    ):
        change = super().update_alias
        return self._failing(
            "update_alias",
            function,
            lambda: change(function, alias, version, revision_id, clear_routing=clear_routing),
        )

    def route(self, function, alias, version, weights, revision_id):  # type: ignore[no-untyped-def]
        change = super().route
        return self._failing(
            "route", function, lambda: change(function, alias, version, weights, revision_id)
        )


def moto_regional_adapter(functions: dict[str, tuple[str, Any]]) -> Any:
    """The Lambda adapter over moto's regional clients (from ``create_regional_functions``):
    NA's client by default, each other region's through its own."""
    from bot.adapters.lambda_aws import LambdaAdapter

    clients = {client.meta.region_name: client for _, client in functions.values()}
    return LambdaAdapter(
        functions["NA"][1], poll_interval=0.01, regional_client=clients.__getitem__
    )


def stub_eu_publish(functions: dict[str, tuple[str, Any]], code_sha256: str) -> tuple[Any, str]:
    """A Stubber on EU's client holding the alias read and the publish (v3) a Confirm
    makes there before it moves anything; returns it (not yet active) and the alias's
    RevisionId."""
    from botocore.stub import Stubber

    eu_fn, eu_client = functions["EU"]
    alias = eu_client.get_alias(FunctionName=eu_fn, Name="PROD1")
    stub = Stubber(eu_client)
    stub.add_response("get_alias", alias, {"FunctionName": eu_fn, "Name": "PROD1"})
    published = {
        "FunctionName": eu_fn,
        "Version": "3",
        "CodeSha256": code_sha256,
        "LastModified": "2026-03-01T10:00:00.000+0000",
    }
    stub.add_response("publish_version", published)
    return stub, str(alias["RevisionId"])


def regional_on_moto(**options: Any) -> tuple[Composed, FakeNotifier, dict[str, tuple[str, Any]]]:
    """The skill ``trivia`` with its function in three regions on in-process moto
    (``create_regional_functions``), composed over the real adapter (``options`` go to
    :func:`compose_regional`): its services, notifier and functions."""
    from tests.support.aws import create_regional_functions

    functions = create_regional_functions("trivia")
    services, notifier, _skill = compose_regional(
        moto_regional_adapter(functions),
        function="trivia",
        regional_functions={r: functions[r][0] for r in ("EU", "FE")},
        **options,
    )
    return services, notifier, functions
