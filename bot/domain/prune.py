"""Pruning old versions: which ones may go, and the region's code storage, pure values.

Every hotfix and certification publishes a version, and every version's package counts
against the region's code storage (75 GB by default)::

    keep, drop = prunable(versions, referenced={"7", "9"}, keep=10)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.domain.labels import version_label
from bot.domain.model import LATEST, AliasState, Version

DEFAULT_KEEP = 10
#: doctor suggests pruning above this share of the code storage quota
STORAGE_WARNING = 0.8


def prunable(versions: Sequence[Version], *, referenced: Iterable[str], keep: int) -> list[Version]:
    """The versions prune may delete, oldest first: never ``$LATEST``, never one in
    ``referenced`` (an alias points at or weights it, the pending candidate's), never one
    of the ``keep`` most recent.

    >>> vs = [Version(str(n), "h") for n in range(1, 7)]
    >>> [v.number for v in prunable(vs, referenced={"2"}, keep=3)]
    ['1', '3']
    """
    kept = set(referenced)
    published = sorted((v for v in versions if v.number.isdigit()), key=lambda v: int(v.number))
    recent = {v.number for v in published[-keep:]} if keep > 0 else set()
    return [v for v in published if v.number != LATEST and v.number not in kept | recent]


def size_label(size: int) -> str:
    """``1536`` -> ``"1.5 KB"``; bytes in powers of 1024, as the Lambda console shows them."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop returns


def references(
    aliases: Iterable[AliasState],
    versions: Iterable[Version],
    *,
    kept: Iterable[tuple[str | None, str | None, str]] = (),
    in_use: Iterable[str] = (),
) -> dict[str, str]:
    """Version → why it must stay, in one function: an alias points at or weights it, it
    holds code that must stay (``kept``), or a running canary uses it (``in_use``).

    ``kept`` holds (version number, code hash, what it is): the pending certification,
    the version a rollback returns to. The number names it in the first placement's function;
    in another region's function the number differs, so every version holding that code
    is kept there.

    >>> a = [AliasState("PROD1", "4", "r", {"5": 0.1})]
    >>> vs = [Version("2", "c"), Version("3", "x")]
    >>> sorted(references(a, vs, kept=[(None, "c", "pending certification")]))
    ['2', '4', '5']
    """
    why: dict[str, str] = {}
    versions = list(versions)
    for alias in aliases:
        why.setdefault(alias.version, f"alias {alias.name} points at it")
        for weighted in alias.routing:
            why.setdefault(weighted, f"alias {alias.name} sends it traffic")
    for number, code, what in kept:
        if number is not None:
            why.setdefault(number, f"the {what}")
        for version in versions:
            if code is not None and version.code_sha256 == code:
                why.setdefault(version.number, f"the {what}'s code")
    for used in in_use:
        why.setdefault(used, "a running canary uses it")
    return why


@dataclass(frozen=True)
class RegionPrune:
    """One region's part of a prune: its function and the versions deleted there."""

    region: str
    function: str
    versions: tuple[Version, ...]

    @property
    def freed(self) -> int:
        return sum(v.code_size for v in self.versions)

    def line(self) -> str:
        """``EU: v1, v2 — 3.0 KB``."""
        numbers = ", ".join(version_label(v.number) for v in self.versions) or "nothing"
        return f"{self.region}: {numbers} — {size_label(self.freed)}"
