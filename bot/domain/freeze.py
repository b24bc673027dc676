"""Freeze windows: times in which no change is made ("not on Friday evening", "not over
the holidays"), read in the skills file's ``timezone``::

    window = FreezeWindow.parse("Fri 16:00 - Mon 08:00")
    window.until(now, ZoneInfo("Europe/Berlin"))   # the window's end if ``now`` is in it

Two forms: weekly (``"Fri 16:00 - Mon 08:00"``, across the week's end too) and dated
(``"2026-12-21 - 2027-01-04"``, whole days, the last one included; or with times,
``"2026-12-24 12:00 - 2026-12-27 08:00"``). Times are wall-clock times of the zone, so a
window keeps its hours across a change to or from daylight saving time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKLY = re.compile(
    r"^\s*([a-z]{3})[a-z]*\s+(\d{1,2}:\d{2})\s*-\s*([a-z]{3})[a-z]*\s+(\d{1,2}:\d{2})\s*$", re.I
)
_MOMENT = r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?"
_DATED = re.compile(rf"^\s*{_MOMENT}\s+-\s+{_MOMENT}\s*$")


def _clock(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return time(hours, minutes)


def _day(text: str) -> int:
    try:
        return DAYS.index(text.lower())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a day: use Mon, Tue, Wed, Thu, Fri, Sat or Sun"
        ) from None


@dataclass(frozen=True)
class FreezeWindow:
    """One window as the skills file wrote it."""

    text: str
    #: weekly: (start day, start time, end day, end time), Monday = 0
    weekly: tuple[int, time, int, time] | None = None
    #: dated: the first moment in it and the first after it, wall-clock
    dated: tuple[datetime, datetime] | None = None

    @classmethod
    def parse(cls, text: str) -> FreezeWindow:
        """A window, or ValueError saying what is wrong with ``text``.

        >>> FreezeWindow.parse("Fri 16:00 - Mon 08:00").weekly[0]
        4
        >>> FreezeWindow.parse("2026-12-21 - 2027-01-04").dated[1]
        datetime.datetime(2027, 1, 5, 0, 0)
        """
        weekly = _WEEKLY.match(text)
        if weekly:
            start = (_day(weekly.group(1)), _clock(weekly.group(2)))
            end = (_day(weekly.group(3)), _clock(weekly.group(4)))
            if start == end:
                raise ValueError(f"{text!r} starts where it ends")
            return cls(text, weekly=(*start, *end))
        dated = _DATED.match(text)
        if dated:
            try:
                first, last = date.fromisoformat(dated.group(1)), date.fromisoformat(dated.group(3))
            except ValueError as err:
                raise ValueError(f"{text!r}: {err}") from None
            begins = datetime.combine(first, _clock(dated.group(2)) if dated.group(2) else time())
            # a date alone as the end takes in that whole day
            ends = (
                datetime.combine(last, _clock(dated.group(4)))
                if dated.group(4)
                else datetime.combine(last + timedelta(days=1), time())
            )
            if ends <= begins:
                raise ValueError(f"{text!r} ends before it starts")
            return cls(text, dated=(begins, ends))
        raise ValueError(
            f"{text!r} is not a freeze window like 'Fri 16:00 - Mon 08:00' or "
            "'2026-12-21 - 2027-01-04'"
        )

    def until(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """When the window ends (UTC) if ``now`` is in it; None when it is not."""
        local = now.astimezone(zone).replace(tzinfo=None)
        if self.dated is not None:
            begins, ends = self.dated
            return _aware(ends, zone) if begins <= local < ends else None
        assert self.weekly is not None
        start_day, start_time, end_day, end_time = self.weekly
        minute = lambda day, at: day * 1440 + at.hour * 60 + at.minute  # noqa: E731
        here = minute(local.weekday(), local.time())
        start, end = minute(start_day, start_time), minute(end_day, end_time)
        inside = start <= here < end if start < end else (here >= start or here < end)
        if not inside:
            return None
        ends = datetime.combine(
            local.date() + timedelta(days=(end_day - local.weekday()) % 7), end_time
        )
        if ends <= local:
            ends += timedelta(days=7)
        return _aware(ends, zone)


def _aware(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time of ``zone`` as UTC (a time a clock change skips is taken as the
    same time after it)."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def frozen_until(
    windows: Sequence[FreezeWindow], now: datetime, zone: ZoneInfo
) -> tuple[FreezeWindow, datetime] | None:
    """The window ``now`` is in and when it ends (the latest end, if several overlap)."""
    inside = [(w, end) for w in windows if (end := w.until(now, zone)) is not None]
    return max(inside, key=lambda found: found[1]) if inside else None


_AT = re.compile(r"^\s*(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2}:\d{2})\s*$")


def next_moment(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """``"2026-12-10 09:00"``, or ``"09:00"`` for the next such time, in ``zone``, as
    UTC; ValueError for anything else or a moment not in the future.

    >>> now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    >>> next_moment("09:00", now, ZoneInfo("UTC"))
    datetime.datetime(2026, 12, 8, 9, 0, tzinfo=datetime.timezone.utc)
    """
    found = _AT.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a time like '2026-12-10 09:00' or '09:00'")
    at = _clock(found.group(2))
    local = now.astimezone(zone).replace(tzinfo=None)
    if found.group(1):
        try:
            when = datetime.combine(date.fromisoformat(found.group(1)), at)
        except ValueError as err:
            raise ValueError(f"{text!r}: {err}") from None
        if when <= local:
            raise ValueError(f"{text!r} has passed (it is {local:%Y-%m-%d %H:%M} now)")
        if when - local > timedelta(days=366):
            raise ValueError(f"{text!r} is more than a year away")
    else:
        when = datetime.combine(local.date(), at)
        if when <= local:
            when += timedelta(days=1)
    return _aware(when, zone)


def shown_at(moment: datetime, zone: str) -> str:
    """A moment as people of ``zone`` read it: ``Thu 2026-12-10 09:00 (Europe/Berlin)``."""
    return f"{moment.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M} ({zone})"
