"""Skills served from several AWS regions: one rotation over every regional function, in
lockstep. The rules, as pure functions over values read beforehand::

    >>> version_with_code([("3", "a"), ("5", "b")], "b")
    '5'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.domain.errors import NotFound, Refused
from bot.domain.words import Run, Words, words


def aws_region_of(function: str) -> str | None:
    """The AWS region in a function ARN; None for a bare name.

    >>> aws_region_of("arn:aws:lambda:eu-west-1:123456789012:function:trivia")
    'eu-west-1'
    >>> aws_region_of("trivia") is None
    True
    """
    parts = function.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda":
        return parts[3]
    return None


def deployed_ago(last_modified: str, now: datetime | None = None) -> str:
    """``deployed 3 h ago`` from Lambda's ``LastModified`` (``2026-03-01T10:00:00.000+0000``)."""
    try:  # seconds are enough; the zone is UTC in every form AWS writes
        when = datetime.strptime(last_modified[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return f"deployed {last_modified}" if last_modified else "deployed at an unknown time"
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds >= 86400:
        return f"deployed {seconds // 86400} d ago"
    if seconds >= 3600:
        return f"deployed {seconds // 3600} h ago"
    if seconds >= 60:
        return f"deployed {seconds // 60} min ago"
    return f"deployed {seconds} s ago"


def check_same_code(
    skill: str,
    run: Run,
    codes: Sequence[tuple[str, str, str]],
    now: datetime | None = None,
) -> None:
    """Every region's ``$LATEST`` must hold the same code: ``codes`` are (region, code
    hash, last modified), the default region first. Refuse before anything moves, naming
    the regions that differ from the default one.

    >>> check_same_code("t", Run("hotfix", "t"), [("NA", "9c1b", ""), ("EU", "9c1b", "")])
    """
    first_region, first_sha, first_modified = codes[0]
    differing = [c for c in codes[1:] if c[1] != first_sha]
    if not differing:
        return
    described = ", ".join(
        f"{region} has code {sha[:4]}… {deployed_ago(modified, now)}"
        for region, sha, modified in differing
    )
    raise Refused(
        f"The regions of {skill} do not hold the same code in $LATEST: {described}, "
        f"{first_region} has {first_sha[:4]}… {deployed_ago(first_modified, now)}. Nothing was "
        "changed in any region.",
        hint=words(
            "Deploy the same code to every region's function, then run ",
            run,
            " again; or name a version that every region has.",
        ),
    )


def version_with_code(versions: Sequence[tuple[str, str]], code_sha256: str) -> str | None:
    """The newest version number among (number, code hash) pairs that holds the code.

    >>> version_with_code([("3", "a"), ("5", "b"), ("4", "b")], "b")
    '5'
    """
    numbers = [int(n) for n, sha in versions if sha == code_sha256 and n.isdigit()]
    return str(max(numbers)) if numbers else None


def missing_version(skill: str, region: str, label: str, code_sha256: str) -> NotFound:
    """The refusal when a region has no version with the code of the one named."""
    return NotFound(
        f"{region} has no version with the code of {label} ({code_sha256[:12]}…), so "
        f"{skill}'s regions cannot move together. Nothing was changed in any region.",
        hint=words(
            f"Deploy that code to {region}'s function, or leave the version out (",
            Run("hotfix", skill),
            ") to publish $LATEST in every region.",
        ),
    )


def partly_applied(
    summary: str,
    moved: Sequence[str],
    waiting: Sequence[tuple[str, str]],
    run: Run,
    *,
    replan: bool = False,
) -> tuple[str, Words]:
    """(message, hint) after some regions moved and others did not: ``moved`` are
    ``EU v3 → v5`` lines, ``waiting`` (region, why) pairs. ``replan``: a region changed
    meanwhile, so a new plan (not this one again) finishes the rest."""
    done = ", ".join(moved) if moved else "no region"
    behind = "; ".join(f"{region}: {why}" for region, why in waiting)
    regions = ", ".join(region for region, _ in waiting)
    if replan:
        hint = words(
            "Run ",
            run,
            " again: the new plan moves only the regions still "
            f"behind ({regions}); the regions already moved stay as they are.",
        )
    else:
        hint = words(
            "Press Confirm again (or run ",
            run,
            f" again) to finish {regions}: the regions already moved are not moved again.",
        )
    return (
        f"{summary} is only partly applied. Moved: {done}. Not moved: {behind}. The "
        "regions now disagree; nothing is announced until every region has moved.",
        hint,
    )
