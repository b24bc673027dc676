"""Errors a person can act on.

Every error skillbot raises for an expected failure is a :class:`SkillbotError`:
``message`` says what happened, ``hint`` says what to do instead. The Slack layer
shows both; nothing else needs to know where the error came from (AWS, the store,
SMAPI)::

    raise StalePlan("PROD1 moved from v7 to v8 since the plan was shown",
                    hint=words("Run ", Run("hotfix", "trivia"), " again to see a fresh plan."))

Message and hint are plain text or :mod:`bot.domain.words` (commands to run, people):
each face renders the words its own way (``said`` and ``todo``); ``message`` and
``hint`` are the plain form, for logs and the audit log.
"""

from __future__ import annotations

from bot.domain.words import Words, as_words, plain, words


class SkillbotError(Exception):
    """Base of every expected failure; ``str(err)`` is the message plus the hint."""

    #: short machine-readable kind, recorded in the audit log
    kind = "error"

    def __init__(
        self,
        message: str | Words,
        *,
        hint: str | Words = "",
        retry_after: float | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        #: what happened, and what to do instead, as words a face renders
        self.said: Words = as_words(message)
        self.todo: Words = as_words(hint)
        self.message = plain(self.said)
        self.hint = plain(self.todo)
        super().__init__(self.message)
        #: seconds the remote side asked to wait before trying again (a rate limit)
        self.retry_after = retry_after
        #: the request went out and no answer came back: it may or may not have happened
        self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()

    @property
    def told(self) -> Words:
        """The message and the hint as one, in words (``str(err)`` for a face)."""
        return words(self.said, " " if self.said and self.todo else "", self.todo)


class ConfigError(SkillbotError):
    """The environment or the skills file is wrong; the bot does not start."""

    kind = "config"


class NotFound(SkillbotError):
    """A skill, alias, version or function that does not exist."""

    kind = "not_found"


class Refused(SkillbotError):
    """A guard of the rotation refused the operation; nothing changed."""

    kind = "refused"


class NotAuthorized(SkillbotError):
    """The person may not do this; the message says who may."""

    kind = "not_authorized"


class StalePlan(SkillbotError):
    """The world moved since the plan was shown (alias revision or code hash)."""

    kind = "stale"


class Busy(SkillbotError):
    """Another operation holds the skill, or AWS is mid-update; retrying later works."""

    kind = "busy"


class Unavailable(SkillbotError):
    """A remote service failed (throttled, 5xx, timeout, unreachable); nothing changed."""

    kind = "unavailable"


class Forbidden(SkillbotError):
    """The bot's own credentials lack a permission."""

    kind = "forbidden"


class AppliedNotRecorded(SkillbotError):
    """The change is made, but recording it failed: it must not be confirmed again; the
    record and the announcement are completed once the database answers."""

    kind = "applied_not_recorded"


class PartlyApplied(SkillbotError):
    """Some regions of a skill moved and others did not; confirming again finishes the
    rest without moving the finished regions again."""

    kind = "partly_applied"
