"""A canary's alias changes on each function it runs on: one function, or every regional
function of a skill served from several regions, side by side and each guarded by its own
``RevisionId``.

Starting sets the weights on every function; when some function fails, the ones set
stay set and the canary stays ``starting`` until every function has them (a Confirm
again, or the canary pass, finishes it), unless a function changed meanwhile: then the
weights already set are taken back, so a canary never runs in some regions only::

    started = set_weights(lam, pool, canary, targets)
    started.failed      # {"EU": SkillbotError(…)}; empty when every function has them
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from bot.domain.canary import Canary, CanaryRegion, Verdict, alias_text
from bot.domain.errors import PartlyApplied, Refused, SkillbotError, StalePlan
from bot.domain.model import AliasState, Outcome, version_label
from bot.domain.words import Run, words
from bot.ports import LambdaPort
from bot.service.fanout import each, in_region, run_each

T = TypeVar("T")


@dataclass(frozen=True)
class CanaryTarget:
    """One function a canary starts on: what its live alias serves now, the new version."""

    region: str  # "" for a skill with one function
    function: str
    current: AliasState
    new_version: str


@dataclass
class Started:
    """What setting the weights did: per region, the alias as it now is, or the error."""

    set: dict[str, AliasState] = field(default_factory=dict)
    failed: dict[str, SkillbotError] = field(default_factory=dict)


def check_targets(alias: str, skill: str, targets: Sequence[CanaryTarget]) -> None:
    """Refuse a canary that would mix weights or try code a function already serves."""
    for t in targets:
        where = f"{t.region}: " if t.region else ""
        if t.current.routing:
            raise Refused(
                f"{where}{alias} already sends traffic to more than one version.",
                hint=words("Run ", Run("doctor", skill), " to clear the weights, then plan again."),
            )
        if t.new_version == t.current.version:
            raise Refused(
                f"{where}{alias} already serves this code; there is nothing to try.",
                hint="Deploy new code to $LATEST, or name another version.",
            )


def set_weights(
    lam: LambdaPort, pool: ThreadPoolExecutor, canary: Canary, targets: Sequence[CanaryTarget]
) -> Started:
    """Weights {new: P} on every target's alias, each guarded by the revision read."""

    def route(t: CanaryTarget) -> AliasState:
        return lam.route(
            t.function,
            canary.alias,
            t.current.version,
            {t.new_version: canary.weight},
            t.current.revision_id,
        )

    started = Started()
    for t, future in zip(targets, run_each(pool, route, targets), strict=True):
        error = future.exception()
        if error is None:
            started.set[t.region] = future.result()
        else:
            started.failed[t.region] = in_region(error, t.region)
    return started


def read_aliases(
    lam: LambdaPort, pool: ThreadPoolExecutor, alias: str, places: Sequence[CanaryRegion]
) -> list[AliasState | None]:
    """Every place's alias, read side by side (the first error is raised)."""
    return each(pool, lambda p: lam.get_alias(p.function, alias), places, lambda p: p.region)


def take_back(
    lam: LambdaPort,
    pool: ThreadPoolExecutor,
    alias: str,
    set_: Sequence[tuple[CanaryRegion, AliasState]],
) -> list[str]:
    """Clear the weights a canary set (the main version never moved); returns the regions
    where that failed (their weights stay, for doctor to report and Fix to clear)."""

    def clear(item: tuple[CanaryRegion, AliasState]) -> object:
        place, state = item
        return lam.route(place.function, alias, state.version, {}, state.revision_id)

    futures = run_each(pool, clear, set_)
    return [p.region for (p, _), f in zip(set_, futures, strict=True) if f.exception()]


def partly_started(canary: Canary, started: Started) -> SkillbotError:
    """The error of a start some functions of which have the weights and others not."""
    news = {p.region: p.new_version for p in canary.regions}
    done = ", ".join(
        f"{r} ({version_label(news.get(r, canary.new_version))} at {canary.weight:.0%})"
        for r in started.set
    )
    behind = "; ".join(e.message for e in started.failed.values())
    return PartlyApplied(
        f"The canary on {canary.skill}'s {canary.alias} is only partly started. Weights "
        f"set: {done}. Not set: {behind}. It does not run (no figures, no end) until "
        "every region has its weights.",
        hint=f"Press Confirm again (or wait: skillbot retries within seconds) to set the "
        f"weights in {', '.join(started.failed)}; the regions already set are not changed.",
    )


def changed_meanwhile(canary: Canary, regions: Iterable[str], left: Sequence[str]) -> StalePlan:
    """A start that cannot finish: some region's alias changed since the plan."""
    kept = (
        words(
            f" The weights in {', '.join(left)} could not be taken back: ",
            Run("doctor", canary.skill),
            " reports them and Fix clears them.",
        )
        if left
        else words(" The weights already set elsewhere were taken back.")
    )
    return StalePlan(
        words(
            f"The canary on {canary.skill}'s {canary.alias} was not started: "
            f"{', '.join(regions)} changed since the plan was shown.",
            kept,
        ),
        hint=words(
            "Nothing runs. Run ",
            Run("hotfix", canary.skill, f"--canary {canary.weight:.0%}"),
            " again for a new plan.",
        ),
    )


def end_everywhere(
    lam: LambdaPort, pool: ThreadPoolExecutor, canary: Canary, default_function: str
) -> tuple[Outcome, str, bool]:
    """Every function's alias to the decided version with its weights cleared, side
    by side. Returns the outcome, a note on functions changed outside skillbot (left
    as they are), and whether any function reached the decided version.

    A function already there was done by an attempt whose answer was lost; a failed
    call raises, and the row stays ``ending`` so the next pass finishes the rest."""
    places = canary.places(default_function)
    states = read_aliases(lam, pool, canary.alias, places)
    complete = canary.decision == Verdict.COMPLETE.value
    moving: list[tuple[CanaryRegion, AliasState, str]] = []
    outside: list[str] = []
    for place, state in zip(places, states, strict=True):
        target = place.new_version if complete else place.old_version
        if state is not None and state.version == target and not state.routing:
            continue
        if (
            state is not None
            and state.version == place.old_version
            and canary.weights_are_ours(state.routing, place.new_version)
        ):
            moving.append((place, state, target))
            continue
        where = f"{place.region}'s " if place.region else ""
        outside.append(
            f"; {where}{canary.alias} was changed outside skillbot "
            f"({alias_text(state)}) and is left as it is"
        )
    each(
        pool,
        lambda m: lam.route(m[0].function, canary.alias, m[2], {}, m[1].revision_id),
        moving,
        lambda m: m[0].region,
    )
    if not outside:
        return Outcome.APPLIED, "", True
    return Outcome.FAILED, "".join(outside), len(outside) < len(places)
