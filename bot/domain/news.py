"""What the bot tells Slack, as values: the services say what happened and when, the
Slack presenter how it reads (:func:`bot.adapters.slack.notifier.render`)::

    notifier.post(skill.channel, Announcement(change, AwsFunction("eu-west-1", "trivia")))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.canary import Canary, CanaryRules
from bot.domain.model import Certification, Change, Plan, ScheduledPromotion, SkillLock
from bot.domain.words import Words


@dataclass(frozen=True)
class AwsFunction:
    """Where a skill's function runs, for a link to it in the AWS console."""

    region: str
    function: str


@dataclass(frozen=True)
class Announcement:
    """A change, in its skill's channel."""

    change: Change
    console: AwsFunction | None = None


@dataclass(frozen=True)
class CertificationNews:
    """A certification's one message, as it stands ``now``."""

    cert: Certification
    now: datetime
    approvers: Sequence[str]
    reaction: str
    #: the version the candidate alias left
    from_version: str | None = None
    #: a line on Alexa's review, and one naming what Alexa calls for certification
    review_status: str | None = None
    endpoint: str | Words | None = None
    console: AwsFunction | None = None
    #: who locked the skill (promoting waits until it is unlocked)
    lock: SkillLock | None = None
    #: how many approvers' yes a promotion needs, and who said it so far
    approvals: int = 1
    approved: tuple[str, ...] = ()
    #: the promotion set for a time, and the zone to show it in
    scheduled: ScheduledPromotion | None = None
    timezone: str = "UTC"


class Reminder(CertificationNews):
    """A reminder in a pending certification's thread (the message's facts, ``now``)."""


@dataclass(frozen=True)
class CanaryNews:
    """A canary's one message, as it stands ``now``."""

    canary: Canary
    now: datetime
    rules: CanaryRules


@dataclass(frozen=True)
class CanaryEnded:
    canary: Canary


@dataclass(frozen=True)
class PlanRequest:
    """A plan asked for from the command line, for an operator's Confirm in the channel."""

    plan: Plan
    note: str | Words = ""
    offer_submit: bool = False


@dataclass(frozen=True)
class RequestClosed:
    """A plan request that can no longer be confirmed, and why."""

    plan: Plan
    why: str


@dataclass(frozen=True)
class NotAnApprover:
    """Someone reacted to promote who may not."""

    user: str
    approvers: Sequence[str]
    reaction: str


@dataclass(frozen=True)
class RollbackOffer:
    """A health report found the release worse: a button that plans the rollback."""

    skill: str
    version: str
    why: str


@dataclass(frozen=True)
class HomeView:
    """The App Home tab: each skill's status (a ``StatusView``) with its Alexa review line,
    and a line for each skill that could not be read."""

    statuses: tuple[tuple[Any, str | None], ...]
    errors: tuple[Words, ...] = ()
    region: str | None = None


#: anything the notifier posts; plain text and words are posted as they read
News = (
    Announcement
    | CertificationNews
    | Reminder
    | CanaryNews
    | CanaryEnded
    | PlanRequest
    | RequestClosed
    | NotAnApprover
    | RollbackOffer
    | Words
    | str
)
