"""Where a version's code came from: the commit (and repository) a pipeline built it from,
kept in the published version's Lambda description, so it survives the bot's database::

    description = with_provenance("skillbot hotfix by U0ALICE", "def5678…", "acme/trivia")
    found = provenance_of(description)     # Provenance("def5678…", "acme/trivia")
    commits(old, new)                      # "abc1234 → def5678"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.errors import Refused

_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")
_IN_DESCRIPTION = re.compile(r"\bcommit=([0-9a-f]{7,40})(?: repo=([A-Za-z0-9][A-Za-z0-9_./-]*))?")
#: Lambda's limit on a version's description
DESCRIPTION_MAX = 256


@dataclass(frozen=True)
class Provenance:
    commit: str
    repo: str | None = None

    @property
    def short(self) -> str:
        return self.commit[:7]


def checked(commit: str | None, repo: str | None) -> Provenance | None:
    """``--commit SHA [--repo OWNER/NAME]`` as given, or a refusal saying what is wrong.

    >>> checked("ABC1234def", "acme/trivia")
    Provenance(commit='abc1234def', repo='acme/trivia')
    """
    if commit is None:
        if repo is not None:
            raise Refused("--repo names where --commit is from; give --commit SHA too.")
        return None
    sha = commit.strip().lower()
    if not _SHA.match(sha):
        raise Refused(f"{commit!r} is not a commit: 7 to 40 hexadecimal digits, e.g. abc1234.")
    if repo is not None and not _REPO.match(repo):
        raise Refused(f"{repo!r} is not a repository like OWNER/NAME (acme/trivia).")
    return Provenance(sha, repo)


def with_provenance(description: str, found: Provenance | None) -> str:
    """A version's description carrying ``found`` at its end (kept within Lambda's 256).

    >>> with_provenance("skillbot hotfix by U1: fix", Provenance("abc1234", "acme/trivia"))
    'skillbot hotfix by U1: fix | commit=abc1234 repo=acme/trivia'
    """
    if found is None:
        return description[:DESCRIPTION_MAX]
    tail = f" | commit={found.commit}" + (f" repo={found.repo}" if found.repo else "")
    return description[: DESCRIPTION_MAX - len(tail)] + tail


def provenance_of(description: str | None) -> Provenance | None:
    """What :func:`with_provenance` wrote into a description (None: nothing)."""
    match = _IN_DESCRIPTION.search(description or "")
    return Provenance(match.group(1), match.group(2)) if match else None


def commits(old: Provenance | None, new: Provenance | None) -> str | None:
    """``abc1234 → def5678`` (``? → def5678`` when the old one is not known); None when
    neither is.

    >>> commits(Provenance("abc1234ff"), Provenance("def5678aa"))
    'abc1234 → def5678'
    """
    if old is None and new is None:
        return None
    return f"{old.short if old else '?'} → {new.short if new else '?'}"


def compare_url(old: Provenance | None, new: Provenance | None) -> str | None:
    """GitHub's compare page of the two commits, when both and the repository are known.

    >>> compare_url(Provenance("abc1234", "acme/trivia"), Provenance("def5678", "acme/trivia"))
    'https://github.com/acme/trivia/compare/abc1234...def5678'
    """
    if old is None or new is None:
        return None
    repo = new.repo or old.repo
    return f"https://github.com/{repo}/compare/{old.commit}...{new.commit}" if repo else None
