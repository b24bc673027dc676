"""Freeze windows: the arithmetic over tables (across midnight, the week's end, the
year's end, daylight saving time), the skills file's errors, and every change refused
inside a window while status says until when."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.slack import reports
from bot.adapters.slack.kit import say
from bot.domain.errors import ConfigError, Refused
from bot.domain.freeze import FreezeWindow, frozen_until
from tests.support.fakes import FakeClock
from tests.support.users import OPERATOR
from tests.support.world import make_world, world_config

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("window", "now", "until"),
    [
        # Friday evening to Monday morning, across the week's end
        ("Fri 16:00 - Mon 08:00", "2026-12-11 15:59", None),
        ("Fri 16:00 - Mon 08:00", "2026-12-11 16:00", "2026-12-14 08:00"),
        ("Fri 16:00 - Mon 08:00", "2026-12-13 23:00", "2026-12-14 08:00"),
        ("Fri 16:00 - Mon 08:00", "2026-12-14 07:59", "2026-12-14 08:00"),
        ("Fri 16:00 - Mon 08:00", "2026-12-14 08:00", None),
        ("Fri 16:00 - Mon 08:00", "2026-12-16 12:00", None),
        # within a week, and across midnight on one day
        ("Tue 09:00 - Thu 17:00", "2026-12-09 12:00", "2026-12-10 17:00"),
        ("Sat 22:00 - Sun 02:00", "2026-12-13 01:00", "2026-12-13 02:00"),
        ("Sat 22:00 - Sun 02:00", "2026-12-12 21:00", None),
        # the end's weekday comes round again inside the window (a wrap over the week)
        ("Mon 12:00 - Mon 08:00", "2026-12-14 10:00", None),
        ("Mon 12:00 - Mon 08:00", "2026-12-16 10:00", "2026-12-21 08:00"),
        # the holidays, across the year's end; the last day is taken in whole
        ("2026-12-21 - 2027-01-04", "2026-12-20 23:59", None),
        ("2026-12-21 - 2027-01-04", "2026-12-31 23:00", "2027-01-05 00:00"),
        ("2026-12-21 - 2027-01-04", "2027-01-04 23:59", "2027-01-05 00:00"),
        ("2026-12-21 - 2027-01-04", "2027-01-05 00:00", None),
        ("2026-12-24 12:00 - 2026-12-27 08:00", "2026-12-24 11:59", None),
        ("2026-12-24 12:00 - 2026-12-27 08:00", "2026-12-24 12:00", "2026-12-27 08:00"),
    ],
)
def test_a_window_holds_from_its_start_to_its_end(window, now, until):
    found = FreezeWindow.parse(window).until(at(now), BERLIN)
    assert (found.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") if found else None) == until


def test_a_weekly_window_keeps_its_wall_clock_hours_across_daylight_saving_time():
    window = FreezeWindow.parse("Sat 20:00 - Mon 08:00")
    # Berlin leaves summer time in the night of Sat 24 to Sun 25 October 2026
    ends = window.until(at("2026-10-24 21:00"), BERLIN)
    assert ends is not None and ends.astimezone(BERLIN).strftime("%H:%M %Z") == "08:00 CET"
    assert ends == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)  # 08:00 CET is 07:00 UTC
    assert window.until(datetime(2026, 10, 24, 17, 59, tzinfo=UTC), BERLIN) is None  # 19:59 CEST
    assert window.until(datetime(2026, 10, 24, 18, 0, tzinfo=UTC), BERLIN) is not None


def test_overlapping_windows_say_the_latest_end():
    windows = [FreezeWindow.parse(w) for w in ("Fri 16:00 - Mon 08:00", "2026-12-21 - 2027-01-04")]
    window, ends = frozen_until(windows, at("2026-12-26 10:00"), BERLIN)
    assert window.text == "2026-12-21 - 2027-01-04" and ends == at("2027-01-05 00:00")


@pytest.mark.parametrize(
    ("window", "problem"),
    [
        ("Fri 16:00 - Fri 16:00", "starts where it ends"),
        ("Fry 16:00 - Mon 08:00", "'Fry' is not a day"),
        ("Fri 25:00 - Mon 08:00", "'25:00' is not a time of day"),
        ("2027-01-04 - 2026-12-21", "ends before it starts"),
        ("2026-02-30 - 2026-03-02", "day is out of range"),
        ("every Friday", "is not a freeze window like"),
    ],
)
def test_a_bad_window_stops_the_start_naming_the_key_and_the_problem(window, problem):
    for where in ({"freeze": [window]}, {"entry": {"freeze": [window]}}):
        with pytest.raises(ConfigError) as err:
            world_config(**where)
        key = "skills.trivia.freeze" if "entry" in where else "freeze"
        assert key in err.value.message and problem in err.value.message, err.value.message


def test_inside_a_window_every_change_is_refused_and_status_says_until_when():
    # Monday 2 March 2026, 09:00 UTC: 10:00 in Berlin, inside "Mon 08:00 - Mon 18:00"
    w = make_world(clock=FakeClock(), freeze=["Mon 08:00 - Mon 18:00"], timezone="Europe/Berlin")
    w.lam.deploy("trivia-skill", "code-3")
    with pytest.raises(Refused) as err:
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    told = say(err.value.told)
    assert told.startswith(
        "trivia is frozen: the window `Mon 08:00 - Mon 18:00` of the skills file lasts until "
        "Mon 2026-03-02 18:00 (Europe/Berlin). Nothing was changed."
    )
    view = w.cases.reading.status("trivia")
    assert ":snowflake: *Frozen until Mon 2026-03-02 18:00 CET*" in str(reports.status_blocks(view))
    w.clock.advance(hours=8)  # 18:00 in Berlin: the window has ended
    assert w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR).to_version is None
    assert w.cases.reading.status("trivia").frozen is None


def test_a_skills_own_windows_replace_the_files():
    config = world_config(freeze=["Mon 08:00 - Mon 18:00"], entry={"freeze": []})
    assert config.to_skills()["trivia"].freeze == ()
    config = world_config(freeze=["Mon 08:00 - Mon 18:00"])
    assert [w.text for w in config.to_skills()["trivia"].freeze] == ["Mon 08:00 - Mon 18:00"]


def test_a_plan_made_before_a_window_is_refused_when_confirmed_inside_it():
    clock = FakeClock(datetime(2026, 3, 2, 6, 30, tzinfo=UTC))  # 07:30 in Berlin
    w = make_world(clock=clock, freeze=["Mon 08:00 - Mon 18:00"], timezone="Europe/Berlin")
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    clock.advance(minutes=45)  # 08:15: frozen
    with pytest.raises(Refused, match="trivia is frozen"):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.lam.functions["trivia-skill"].aliases["PROD1"].version == "1"
