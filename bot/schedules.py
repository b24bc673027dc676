"""Reminder schedules: a duration (``"24h"``, ``"5s"``) or a cron expression read in a
time zone. The skills file is validated with these and the reminder service follows them::

    schedule = ReminderSchedule.parse("0 10 * * MON-FRI", "Europe/Berlin")
    schedule.next_after(started, now)    # the first slot strictly after now
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.domain.errors import ConfigError

if TYPE_CHECKING:
    from bot.domain.model import Skill

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)
#: the longest duration taken (a reminder period, a wait): longer ones are mistakes, and
#: slots far enough away overflow what a date can hold
LONGEST = timedelta(days=366)


def parse_duration(text: str) -> timedelta | None:
    """``"24h"`` -> 1 day; ``"5s"`` -> 5 seconds; anything else -> None; ValueError
    for one longer than :data:`LONGEST`.

    >>> parse_duration("90m")
    datetime.timedelta(seconds=5400)
    """
    match = _DURATION.match(text)
    if not match:
        return None
    seconds = int(match.group(1)) * _SECONDS[match.group(2).lower()]
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"{text.strip()!r} is longer than {LONGEST.days} days")
    return timedelta(seconds=seconds) if seconds > 0 else None


@dataclass(frozen=True)
class ReminderSchedule:
    """A duration (``"24h"``: every 24 h from the start of the certification) or a cron
    expression read in the skills file's time zone.

    >>> s = ReminderSchedule.parse("2h", "UTC")
    >>> start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    >>> s.next_after(start, start + timedelta(hours=5)).hour  # slots at 11, 13, 15
    15
    """

    text: str
    every: timedelta | None = None
    cron: CronTrigger | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, text: str, timezone: str) -> ReminderSchedule:
        """Raise ValueError with a readable reason for anything else."""
        every = parse_duration(text)
        if every is not None:
            return cls(text, every=every)
        try:
            trigger = CronTrigger.from_crontab(text, timezone=ZoneInfo(timezone))
        except ValueError as err:
            raise ValueError(
                f"{text!r} is neither a duration like '24h' or '5s' nor a cron expression "
                f"like '0 10 * * MON-FRI' ({err})"
            ) from err
        if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
            raise ValueError(f"the cron expression {text!r} never fires")
        return cls(text, cron=trigger)

    def next_after(self, start: datetime, moment: datetime) -> datetime:
        """The first slot strictly after ``moment`` of a certification started at ``start``."""
        if self.every is not None:
            if moment < start:
                return start + self.every
            return start + ((moment - start) // self.every + 1) * self.every
        assert self.cron is not None
        fire = self.cron.get_next_fire_time(None, moment + timedelta(microseconds=1))
        return _NEVER if fire is None else fire.astimezone(UTC)


@dataclass(frozen=True)
class Schedules:
    """The skills file's ``reminder_schedule`` and the per-skill overrides."""

    default: ReminderSchedule
    per_skill: Mapping[str, ReminderSchedule] = field(default_factory=dict)

    def for_skill(self, skill: str) -> ReminderSchedule:
        return self.per_skill.get(skill, self.default)


def build_schedules(default: str, timezone: str, skills: Mapping[str, Skill]) -> Schedules:
    """Every schedule of the skills file (its ``reminder_schedule`` and ``timezone``, the
    skills' overrides); :class:`ConfigError` names a wrong one."""

    def parse(text: str, key: str) -> ReminderSchedule:
        try:
            return ReminderSchedule.parse(text, timezone)
        except ValueError as err:
            raise ConfigError(
                f"skills file: {key}: {err}.",
                hint='Use a duration like "24h" or "5s", or a cron expression like '
                '"0 10 * * MON-FRI" (read in `timezone`).',
            ) from None

    return Schedules(
        parse(default, "reminder_schedule"),
        {
            name: parse(skill.reminder_schedule, f"skills.{name}.reminder_schedule")
            for name, skill in skills.items()
            if skill.reminder_schedule is not None
        },
    )
