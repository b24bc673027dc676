"""Canary hotfixes: the record of one canary and the rule that ends it, pure values.

A canary keeps the live alias on its version (the *old* one) and sends a share of the
traffic to a *new* version (``AdditionalVersionWeights``). Its figures are CloudWatch's
``Invocations`` and ``Errors`` per executed version, one :class:`Period` per metric
period. :func:`decide` says what to do with them::

    rules = CanaryRules(max_error_rate_increase=1.0, min_invocations=10)
    decide(Figures((Period(start, old=Tally(500, 2), new=Tally(40, 9)),)), rules,
           window_over=False).verdict        # Verdict.ABORT: 22.5 % vs 0.4 %
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.labels import version_label

if TYPE_CHECKING:
    from bot.domain.model import AliasState

#: the "Canary" choice on a hotfix plan: CodeDeploy's Canary10Percent… shape
DEFAULT_WEIGHT = 0.10
DEFAULT_SECONDS = 600
#: accepted by --canary (percent of traffic) and --for (seconds)
WEIGHT_RANGE = (1, 50)
SECONDS_RANGE = (10, 24 * 3600)


@dataclass(frozen=True)
class CanaryRules:
    """When a canary completes or aborts (the skills file's ``canary_*`` keys)."""

    #: percentage points the new version's error rate may exceed the old one's by
    max_error_rate_increase: float = 1.0
    #: invocations of the new version needed before its error rate counts
    min_invocations: int = 10
    #: complete a window that saw too little traffic (else wait for more)
    complete_without_traffic: bool = False


@dataclass(frozen=True)
class Tally:
    """Invocations and errors of one version over some time."""

    invocations: int = 0
    errors: int = 0

    @property
    def rate(self) -> float | None:
        """Errors per 100 invocations; None without invocations."""
        if self.invocations <= 0:
            return None
        return 100.0 * self.errors / self.invocations

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.invocations + other.invocations, self.errors + other.errors)

    def describe(self) -> str:
        """``"3 errors in 120 invocations (2.50 %)"``."""
        rate = self.rate
        shown = "no traffic" if rate is None else f"{rate:.2f} %"
        return f"{self.errors} errors in {self.invocations} invocations ({shown})"


@dataclass(frozen=True)
class Period:
    """One metric period: what the old and the new version did in it."""

    start: datetime
    old: Tally = Tally()
    new: Tally = Tally()


@dataclass(frozen=True)
class Figures:
    """Every metric period of a canary so far, oldest first."""

    periods: tuple[Period, ...] = ()

    @property
    def old(self) -> Tally:
        return sum((p.old for p in self.periods), Tally())

    @property
    def new(self) -> Tally:
        return sum((p.new for p in self.periods), Tally())


class Verdict(enum.StrEnum):
    CONTINUE = "continue"
    COMPLETE = "complete"
    ABORT = "abort"
    #: the window is over but the new version saw too little traffic to judge
    WAIT = "wait"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    #: the metric period whose figures made it abort (None: the whole canary's)
    period: datetime | None = None


def _worse_by(new: Tally, baseline: float | None) -> float | None:
    """How many points the new version's error rate exceeds ``baseline`` by."""
    rate = new.rate
    if rate is None:
        return None
    return rate - (baseline or 0.0)


def decide(figures: Figures, rules: CanaryRules, *, window_over: bool) -> Decision:
    """What a canary does next, from its figures.

    - Abort as soon as the new version's error rate exceeds the old one's by more than
      the margin, over the whole canary or within one metric period, with at least
      ``min_invocations`` of the new version there. Within a period the old version's
      rate in that period is the baseline when it had as many invocations, else its
      rate over the whole canary.
    - Until the window is over: continue.
    - Then: abort if the margin is exceeded at all; complete with enough traffic, or
      without it when ``complete_without_traffic``; else wait for more traffic.
    """
    margin = rules.max_error_rate_increase
    old_total, new_total = figures.old, figures.new
    samples: list[tuple[Tally, float | None, datetime | None]] = [(new_total, old_total.rate, None)]
    for period in figures.periods:
        baseline = (
            period.old.rate if period.old.invocations >= rules.min_invocations else old_total.rate
        )
        samples.append((period.new, baseline, period.start))
    for new, baseline, start in samples:
        worse = _worse_by(new, baseline)
        if new.invocations >= rules.min_invocations and worse is not None and worse > margin:
            where = f" in the period from {start:%H:%M:%S} UTC" if start else ""
            return Decision(
                Verdict.ABORT,
                f"the new version's error rate{where} is {worse:.2f} points above the old "
                f"one's (margin {margin:g}): new {new.describe()}, old "
                f"{_rate_text(baseline)}",
                start,
            )
    if not window_over:
        return Decision(Verdict.CONTINUE, "the window is still open")
    worse = _worse_by(new_total, old_total.rate)
    if worse is not None and worse > margin:
        return Decision(
            Verdict.ABORT,
            f"at the end of the window the new version's error rate is {worse:.2f} points "
            f"above the old one's (margin {margin:g}) on little traffic: new "
            f"{new_total.describe()}, old {old_total.describe()}",
        )
    if new_total.invocations >= rules.min_invocations:
        return Decision(
            Verdict.COMPLETE,
            f"the new version did no worse than the old one within {margin:g} points: new "
            f"{new_total.describe()}, old {old_total.describe()}",
        )
    if rules.complete_without_traffic:
        return Decision(
            Verdict.COMPLETE,
            f"too little traffic to judge ({new_total.invocations} of "
            f"{rules.min_invocations} invocations), completed as canary_complete_without_traffic "
            "allows",
        )
    return Decision(
        Verdict.WAIT,
        f"waiting for traffic: the new version had {new_total.invocations} of the "
        f"{rules.min_invocations} invocations needed to judge it",
    )


def combined(every: Sequence[Figures]) -> Figures:
    """Several functions' figures as one: the same metric periods summed."""
    sums: dict[datetime, Period] = {}
    for figures in every:
        for p in figures.periods:
            had = sums.get(p.start, Period(p.start))
            sums[p.start] = Period(p.start, old=had.old + p.old, new=had.new + p.new)
    return Figures(tuple(sums[at] for at in sorted(sums)))


def decide_regions(
    by_region: Sequence[tuple[str, Figures]], rules: CanaryRules, *, window_over: bool
) -> Decision:
    """:func:`decide` for a canary in several regions: it aborts as soon as one region's
    new version errs beyond the margin (a marketplace broken by the new code is not
    hidden by the others' traffic), and otherwise goes by the regions' figures together::

        decide_regions([("NA", na), ("EU", eu)], rules, window_over=False)
    """
    if len(by_region) == 1:
        return decide(by_region[0][1], rules, window_over=window_over)
    for region, figures in by_region:
        alone = decide(figures, rules, window_over=False)
        if alone.verdict is Verdict.ABORT:
            return replace(alone, reason=f"in {region}, {alone.reason}")
    return decide(combined([f for _, f in by_region]), rules, window_over=window_over)


def _rate_text(rate: float | None) -> str:
    return "had no traffic" if rate is None else f"{rate:.2f} %"


class CanaryState(enum.StrEnum):
    #: recorded just before the weights are set (a crash leaves a trace for recovery)
    STARTING = "starting"
    RUNNING = "running"
    #: decided (complete or abort); the alias change follows
    ENDING = "ending"
    COMPLETED = "completed"
    ABORTED = "aborted"


ACTIVE_STATES = (CanaryState.STARTING, CanaryState.RUNNING, CanaryState.ENDING)


@dataclass(frozen=True)
class CanaryRegion:
    """One regional function of a canary in several regions: its versions and figures."""

    region: str
    function: str
    old_version: str
    new_version: str
    old: Tally = field(default_factory=Tally)
    new: Tally = field(default_factory=Tally)

    @property
    def moves(self) -> str:
        """``"EU v5 → v6"``."""
        return (
            f"{self.region} {version_label(self.old_version)} → {version_label(self.new_version)}"
        )


@dataclass(frozen=True)
class Canary:
    """One canary of a skill's live alias, as the database keeps it."""

    id: str
    skill: str
    alias: str
    old_version: str
    new_version: str
    weight: float
    seconds: int
    requested_by: str
    reason: str
    plan_id: str
    created_at: datetime
    state: CanaryState = CanaryState.STARTING
    #: bumped by every change: each conditional update checks the one it read
    version: int = 0
    confirmed_by: str | None = None
    started_at: datetime | None = None
    next_check_at: datetime | None = None
    #: the decision once made: "complete" or "abort", by whom (a person or skillbot)
    decision: str | None = None
    decided_by: str | None = None
    outcome: str = ""
    ended_at: datetime | None = None
    channel: str | None = None
    message_ts: str | None = None
    old: Tally = field(default_factory=Tally)
    new: Tally = field(default_factory=Tally)
    waiting: bool = False
    audit_id: str | None = None
    #: a skill served from several regions: every function's part, the default's first
    #: (``old_version``/``new_version`` and the tallies above are then the default's
    #: versions and the regions' figures together); empty for one function
    regions: tuple[CanaryRegion, ...] = ()

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def ends_at(self) -> datetime | None:
        return self.started_at + timedelta(seconds=self.seconds) if self.started_at else None

    @property
    def target(self) -> str:
        """Where the alias's main version goes when it ends."""
        return self.new_version if self.decision == Verdict.COMPLETE.value else self.old_version

    def weights_are_ours(self, routing: dict[str, float], new_version: str | None = None) -> bool:
        """Whether an alias's weights are exactly the ones this canary set (in the region
        whose new version is ``new_version``; the default region's by default)."""
        new = new_version or self.new_version
        return set(routing) == {new} and abs(routing[new] - self.weight) < 1e-6

    def places(self, default_function: str) -> tuple[CanaryRegion, ...]:
        """Every function the canary runs on (one unless the skill has regions)."""
        if self.regions:
            return self.regions
        return (CanaryRegion("", default_function, self.old_version, self.new_version),)

    def in_region(self, region: str) -> Canary | None:
        """The canary as seen on one regional function (its own version numbers)."""
        for place in self.regions:
            if place.region == region:
                return replace(self, old_version=place.old_version, new_version=place.new_version)
        return None


def aligned(at: datetime, period: int) -> datetime:
    """``at`` rounded down to a multiple of ``period`` seconds since the epoch."""
    stamp = int(at.timestamp())
    return datetime.fromtimestamp(stamp - stamp % period, tz=at.tzinfo)


def other_regions(canary: Canary, *, stays: bool = False) -> str:
    """`` (NA), EU v5 → v6, FE v2 → v3``: a canary's other regions, after the default's."""
    if not canary.regions:
        return ""
    first, *others = canary.regions
    if stays:
        moves = [f"{r.region} stays on {version_label(r.old_version)}" for r in others]
    else:
        moves = [r.moves for r in others]
    return f" ({first.region}), " + ", ".join(moves)


def end_headline(canary: Canary) -> str:
    """The end in one line, e.g. ``trivia: canary completed — PROD1 v7 → v8 …``."""
    old, new = version_label(canary.old_version), version_label(canary.new_version)
    if canary.state is CanaryState.COMPLETED:
        what = f"completed — {canary.alias} {old} → {new}{other_regions(canary)}"
    else:
        others = other_regions(canary, stays=True)
        what = f"aborted — {canary.alias} stays on {old} ({new} → {old}){others}"
    return f"{canary.skill}: canary {what}; {canary.outcome}"


def alias_text(state: AliasState | None) -> str:
    """``"v7, v8 at 10%"``: an alias's main version and its weights."""
    if state is None:
        return "the alias is gone"
    extra = "".join(f", {version_label(v)} at {w:.0%}" for v, w in state.routing.items())
    return version_label(state.version) + extra
