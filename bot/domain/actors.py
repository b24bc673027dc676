"""Who acts: a Slack user (``U0ALICE``) or a CD pipeline (``github:org/repo``,
``codebuild:project``), and how Slack shows each — one rule for every message::

    >>> display("U0ALICE")
    '<@U0ALICE>'
    >>> display("github:acme/trivia", "https://github.com/acme/trivia/actions/runs/42")
    'github:acme/trivia (run <https://github.com/acme/trivia/actions/runs/42|42>)'

A pipeline has no Slack account to mention, so it is named, with a link to its run when
one is known. Text people type goes into Slack's mrkdwn through :func:`escape`.
"""

from __future__ import annotations

import re

from bot.domain.text import escape

#: what the skills file accepts as a Slack id (users start with U or W)
SLACK_USER = re.compile(r"^[A-Z0-9]{2,}$")
#: ``github:ORG/REPO`` or ``codebuild:PROJECT``
PIPELINE = re.compile(
    r"^(?:github:[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+|codebuild:[A-Za-z0-9][A-Za-z0-9_-]*)$"
)


_RUN_ID = re.compile(r"/runs/(\d+)|/builds?/[^/:]+(?::|%3A)([0-9a-f]{8})")


def is_slack_user(actor: str) -> bool:
    return bool(SLACK_USER.fullmatch(actor))


def is_pipeline(actor: str) -> bool:
    """``github:ORG/REPO`` or ``codebuild:PROJECT``.

    >>> is_pipeline("github:acme/trivia"), is_pipeline("U0ALICE")
    (True, False)
    """
    return bool(PIPELINE.fullmatch(actor))


def github_identity(repository: str) -> str:
    """The identity of a GitHub Actions workflow of ``ORG/REPO``."""
    return f"github:{repository}"


def codebuild_identity(build_arn: str) -> str:
    """The identity of an AWS CodeBuild project, from the build's ARN.

    >>> codebuild_identity("arn:aws:codebuild:eu-west-1:123456789012:build/trivia-deploy:0b1c")
    'codebuild:trivia-deploy'
    """
    build = build_arn.rsplit(":build/", 1)[-1]
    return "codebuild:" + build.split(":", 1)[0]


def display(actor: str, run_url: str | None = None) -> str:
    """How a message names who acted: a mention for a Slack user; a pipeline's name
    (with a link to its run, when known) for anything else."""
    if is_slack_user(actor):
        return f"<@{actor}>"
    shown = escape(actor)
    if run_url:
        shown += f" (run <{escape(run_url)}|{escape(run_label(run_url))}>)"
    return shown


def run_label(run_url: str) -> str:
    """A short name for a run's link: GitHub's run number, CodeBuild's build id prefix.

    >>> run_label("https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/d/build/d:0b1c2d3e-4f/")
    '0b1c2d3e'
    """
    found = _RUN_ID.search(run_url)
    return next(g for g in found.groups() if g) if found else "link"


def plain(actor: str, run_url: str | None = None) -> str:
    """The same for a terminal: ``github:acme/trivia (run https://…)``."""
    return f"{actor} (run {run_url})" if run_url else actor


def github_repo(actor: str) -> str | None:
    """``acme/trivia`` for the pipeline ``github:acme/trivia``; None for anyone else.

    >>> github_repo("github:acme/trivia"), github_repo("U0ALICE")
    ('acme/trivia', None)
    """
    return actor.removeprefix("github:") if actor.startswith("github:") else None
