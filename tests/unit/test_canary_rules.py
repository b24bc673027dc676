"""The rule that ends a canary, over tables of figures; the prune selection; parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.commands import parse
from bot.domain.canary import CanaryRules, Figures, Period, Tally, Verdict, aligned, decide
from bot.domain.errors import Refused
from bot.domain.model import Version
from bot.domain.prune import prunable

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = CanaryRules(max_error_rate_increase=1.0, min_invocations=10)


def minutes(*rows: tuple[int, int, int, int]) -> Figures:
    """One (old invocations, old errors, new invocations, new errors) row per minute."""
    return Figures(
        tuple(
            Period(T0 + timedelta(minutes=i), Tally(oi, oe), Tally(ni, ne))
            for i, (oi, oe, ni, ne) in enumerate(rows)
        )
    )


@pytest.mark.parametrize(
    ("rows", "window_over", "rules", "verdict"),
    [
        # no worse than the old version: continue, then complete
        ([(900, 9, 100, 1)], False, RULES, Verdict.CONTINUE),
        ([(900, 9, 100, 1)], True, RULES, Verdict.COMPLETE),
        # 1.9 points worse is within a margin of 2
        ([(1000, 1, 100, 2)], True, CanaryRules(2.0, 10), Verdict.COMPLETE),
        # 1.9 points worse exceeds a margin of 1: abort before the window ends
        ([(1000, 1, 100, 2)], False, RULES, Verdict.ABORT),
        # exactly the margin is not "more than" it
        ([(1000, 0, 100, 1)], True, RULES, Verdict.COMPLETE),
        # errors on too few invocations do not abort early...
        ([(900, 0, 9, 9)], False, RULES, Verdict.CONTINUE),
        # ...but at the end of the window they stop a completion
        (
            [(900, 0, 9, 9)],
            True,
            CanaryRules(1.0, 10, complete_without_traffic=True),
            Verdict.ABORT,
        ),
        # too little traffic at the end: wait, or complete when allowed
        ([(900, 0, 3, 0)], True, RULES, Verdict.WAIT),
        ([(900, 0, 3, 0)], True, CanaryRules(1.0, 10, True), Verdict.COMPLETE),
        ([(0, 0, 0, 0)], True, RULES, Verdict.WAIT),
        # the old version without traffic: the new one is judged against 0 %
        ([(0, 0, 50, 0)], True, RULES, Verdict.COMPLETE),
        ([(0, 0, 50, 1)], False, RULES, Verdict.ABORT),
        # a bad last minute aborts although the whole canary is within the margin
        ([(900, 0, 100, 0)] * 5 + [(900, 0, 20, 5)], False, RULES, Verdict.ABORT),
        # both versions failing alike in one minute is not the new code's fault
        ([(900, 0, 100, 0)] * 5 + [(100, 30, 20, 6)], True, RULES, Verdict.COMPLETE),
    ],
)
def test_decide_over_tables_of_figures(rows, window_over, rules, verdict):
    assert decide(minutes(*rows), rules, window_over=window_over).verdict is verdict


def test_an_abort_names_the_period_and_the_figures():
    decision = decide(minutes((900, 0, 500, 0), (900, 0, 20, 5)), RULES, window_over=False)
    assert decision.verdict is Verdict.ABORT
    assert decision.period == T0 + timedelta(minutes=1)
    assert (
        "09:01:00" in decision.reason and "5 errors in 20 invocations (25.00 %)" in decision.reason
    )


def test_waiting_says_how_much_traffic_is_missing():
    decision = decide(minutes((500, 0, 4, 0)), RULES, window_over=True)
    assert decision.reason == (
        "waiting for traffic: the new version had 4 of the 10 invocations needed to judge it"
    )


def test_periods_are_aligned_to_the_epoch():
    assert aligned(datetime(2026, 3, 2, 9, 0, 7, tzinfo=UTC), 5) == datetime(
        2026, 3, 2, 9, 0, 5, tzinfo=UTC
    )


def test_prune_keeps_latest_the_referenced_and_the_most_recent():
    versions = [Version("$LATEST", "x")] + [Version(str(n), "h") for n in range(1, 16)]
    doomed = prunable(versions, referenced={"2", "4"}, keep=10)
    assert [v.number for v in doomed] == ["1", "3", "5"]
    assert prunable(versions, referenced=set(), keep=15) == []


@pytest.mark.parametrize(
    ("text", "weight", "seconds"),
    [
        ("hotfix --canary 10%", 0.10, 600),
        ("hotfix trivia 9 --canary 5% --for 90s -- crash", 0.05, 90),
        ("hotfix —canary 25 —for 1h30m — “slow”", 0.25, 5400),
        ("hotfix --canary=10% --for=2m", 0.10, 120),
    ],
)
def test_canary_options(text, weight, seconds):
    command = parse(text, ["trivia"])
    assert (command.option("canary"), command.option("for")) == (weight, seconds)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("hotfix --canary 80%", "from 1% to 50%"),
        ("hotfix --canary 10% --for 3s", "from 10s to 24h"),
        ("hotfix --for 10m", "/skill hotfix [SKILL] [VERSION] [--canary 10% [--for 10m]]"),
        ("rollback --canary 10%", "/skill rollback"),
        ("prune --keep none", "e.g. `--keep 10`"),
    ],
)
def test_bad_options_are_refused_with_what_to_type(text, hint):
    with pytest.raises(Refused) as err:
        parse(text, ["trivia"])
    assert hint in err.value.hint


def test_prune_keep():
    assert parse("prune trivia --keep 3", ["trivia"]).option("keep") == 3
    assert parse("prune", ["trivia"]).option("keep") is None
