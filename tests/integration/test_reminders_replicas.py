"""Two ``python -m bot scheduler`` processes on one PostgreSQL database send each
reminder exactly once; certifications recorded by another process (here: the test, as a
``web`` process would) are reminded by whichever scheduler claims them first.

Skips where no PostgreSQL server answers (fails instead with SKILLBOT_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.store import open_store
from bot.devkit.fake_slack import FakeSlack
from tests.support.db import postgres_schema_url
from tests.support.process import bot_env, iter_lines, start_bot
from tests.support.reminders import seed_certification, slots_of
from tests.support.skills import skills_toml

PERIOD = 2
SKILLS = {f"skill{i}": f"C0SKILL{i}" for i in range(8)}
TOKENS = ("xoxb-replica-a", "xoxb-replica-b")


def test_two_scheduler_processes_send_each_reminder_exactly_once(tmp_path: Path, moto_endpoint):
    config = skills_toml(tmp_path / "skillbot.toml", SKILLS, f"{PERIOD}s")
    with postgres_schema_url() as url, FakeSlack() as fake:
        store = open_store(url)  # migrated once here; the replicas find it done
        processes = []
        try:
            for index, token in enumerate(TOKENS):
                env = bot_env(
                    tmp_path,
                    slack_api_url=fake.api_url,
                    database_url=url,
                    config=config,
                    token=token,
                    signing_secret=None,
                    aws_endpoint_url=moto_endpoint,  # the start checks the AWS credentials
                )
                log = tmp_path / f"replica{index}.log"
                processes.append(start_bot(env, "scheduler", cwd=tmp_path, log=log, ready=None))
                processes[-1].wait_for_log("scheduler ready", 20)
                time.sleep(0.4)  # different pass phases, so that both replicas win claims
            # staggered starts, an eighth of a period apart, so slots fall across both phases
            now = datetime.now(UTC)
            certs = [
                seed_certification(
                    store,
                    skill=skill,
                    created_at=now + timedelta(seconds=PERIOD * i / len(SKILLS)),
                    channel=channel,
                    message_ts=f"1700000000.{i + 1:06d}",
                )
                for i, (skill, channel) in enumerate(SKILLS.items())
            ]
            wait_for_replies(fake, certs, 1)
            # Which replica wins a claim depends on the two passes' phases, which a loaded
            # machine shifts. When one replica has sent every first reminder, stop it: the
            # other must take over the sequence, with no slot doubled or skipped.
            only = senders_of(fake)
            if len(only) == 1:
                processes[TOKENS.index(only.pop())].stop()
            wait_for_replies(fake, certs, 3)
        finally:
            for process in processes:
                process.stop()
            store.close()

        logs = "\n".join(
            line for i in range(len(TOKENS)) for line in iter_lines(tmp_path / f"replica{i}.log")
        )
        for cert in certs:
            replies = fake.thread_replies(cert.channel, cert.message_ts)
            slots = slots_of(replies, PERIOD)
            # every slot once, in order, from the first: no double, no gap
            assert slots == list(range(slots[0], slots[0] + len(slots))), (cert.skill, slots)
            assert slots[0] == 1, (cert.skill, slots)  # none missed: both were running
        senders = senders_of(fake)
    assert senders == set(TOKENS), logs  # both replicas did send: claims, not one idle process
    assert "Traceback" not in logs, logs


def senders_of(fake: FakeSlack) -> set[str]:
    """The tokens that posted reminders (thread replies) Slack accepted."""
    return {
        c.token for c in fake.calls_to("chat.postMessage") if c.ok and c.params.get("thread_ts")
    }


def wait_for_replies(fake: FakeSlack, certs: list, count: int) -> None:
    for cert in certs:
        fake.wait_for(
            lambda f, c=cert: len(f.thread_replies(c.channel, c.message_ts)) >= count,
            timeout=20,
        )
