"""``kill -9`` the scheduler while a certification is pending, let slots pass, start it
again: one catch-up reminder, then the normal cadence; never a burst, never a repeat.

A real ``python -m bot scheduler`` subprocess on a SQLite file, against the fake Slack.
Every reminder states how long the certification has been pending, and is posted less
than a period after its slot, so that age tells which slot each reminder was for.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.store import open_store
from bot.devkit.fake_slack import FakeSlack
from tests.support.process import bot_env, iter_lines, start_bot
from tests.support.reminders import seed_certification, slots_of
from tests.support.skills import skills_toml

PERIOD = 2  # seconds: reminder_schedule = "2s"
THREAD = "1700000000.000100"


def test_a_killed_scheduler_catches_up_once_and_keeps_the_cadence(tmp_path: Path, moto_endpoint):
    url = f"sqlite:///{tmp_path / 'skillbot.db'}"
    store = open_store(url)
    # started 1.5 s ago: the first slot is half a second away
    started = datetime.now(UTC) - timedelta(seconds=1.5)
    seed_certification(store, created_at=started, channel="C0TRIVIA", message_ts=THREAD)
    store.close()
    config = skills_toml(tmp_path / "skillbot.toml", {"trivia": "C0TRIVIA"}, f"{PERIOD}s")
    log = tmp_path / "bot.log"

    def slot_time(slot: int) -> float:
        """``time.time()`` of a slot."""
        return (started + timedelta(seconds=PERIOD * slot)).timestamp()

    with FakeSlack() as fake:
        env = bot_env(
            tmp_path,
            slack_api_url=fake.api_url,
            database_url=url,
            config=config,
            token="xoxb-1",
            signing_secret=None,
            aws_endpoint_url=moto_endpoint,  # the start checks the AWS credentials
        )

        def thread(f: FakeSlack) -> list[dict]:
            return f.thread_replies("C0TRIVIA", THREAD)

        first = start_bot(env, "scheduler", cwd=tmp_path, log=log, ready=None)
        try:
            fake.wait_for(lambda f: len(thread(f)) >= 2, timeout=15)
        finally:
            first.stop(hard=True)  # kill -9: no shutdown code runs
        before = slots_of(thread(fake), PERIOD)
        # the first slot, or (on a machine slow to start the process) the latest one
        # passed by the time the scheduler was up, then the next one
        assert before == [before[0], before[0] + 1], before
        last = before[-1]

        # down for three slots: start again just after the third one missed
        time.sleep(max(0.0, slot_time(last + 3) + 0.2 - time.time()))
        assert len(thread(fake)) == 2  # nobody reminded while the bot was down
        restart = time.monotonic()
        second = start_bot(env, "scheduler", cwd=tmp_path, log=log, ready=None)
        try:
            fake.wait_for(lambda f: len(thread(f)) >= 3, timeout=15)
            catch_up_after = time.monotonic() - restart
            fake.wait_for(lambda f: len(thread(f)) >= 5, timeout=15)
        finally:
            second.stop()
        after = slots_of(thread(fake), PERIOD)[2:]

    output = "\n".join(iter_lines(log))
    assert catch_up_after < 5, output  # sent on start, not a period later
    caught_up = after[0]
    assert caught_up >= last + 3, after  # the missed slots collapsed into the latest one...
    # ...then every slot once, in order: a burst or a repeat would reuse a slot number
    assert after[:3] == [caught_up, caught_up + 1, caught_up + 2], (after, output)
    assert "Traceback" not in output, output
