"""How versions and durations read in messages: ``v7``, ``10m``."""

from __future__ import annotations

LATEST = "$LATEST"


def version_label(number: str | None) -> str:
    """``"7"`` -> ``"v7"``; ``None`` -> ``"(none)"``; ``$LATEST`` unchanged."""
    if number is None:
        return "(none)"
    return number if number == LATEST else f"v{number}"


def duration_label(seconds: float) -> str:
    """``600`` -> ``"10m"``, ``90`` -> ``"1m 30s"``, ``7200`` -> ``"2h"``."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return " ".join(p for p in parts if p) or "0s"
