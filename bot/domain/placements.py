"""Where a skill runs and what a change does there: placements and moves.

A skill has one *placement* per AWS region it runs in (a one-region skill has one); a
plan moves one alias, one *move* per placement, each with the guards read when the plan
was shown::

    >>> p = Placement("EU", "arn:aws:lambda:eu-west-1:1:function:f")
    >>> m = Move(p.region, p.function, "3", "5", revision_id="r1")
    >>> m.line()
    'EU v3 → v5'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from bot.domain.labels import version_label


class Placement(NamedTuple):
    """One AWS region a skill runs in: Alexa's name for it (``NA``, ``EU``, ``FE``), the
    function there, and what Alexa or API Gateway calls there per alias (empty: the
    alias-qualified ARN)."""

    region: str
    function: str
    endpoints: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Move:
    """One placement's part of a plan: its alias from one version to another, and what
    guards it (``revision_id`` of the alias, ``code_sha256`` of what is published).

    ``to_version`` None: a version is published there from ``$LATEST``. ``versions``
    are what a prune deletes there.
    """

    region: str
    function: str
    from_version: str | None
    to_version: str | None
    code_sha256: str | None = None
    revision_id: str | None = None
    code_last_modified: str | None = None
    noop: bool = False
    versions: tuple[str, ...] = ()

    def line(self) -> str:
        """``EU v3 → v5``."""
        new = "a new version" if self.to_version is None else version_label(self.to_version)
        return f"{self.region} {version_label(self.from_version)} → {new}"
