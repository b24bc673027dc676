"""The sender thread: send times, per-channel spacing, Retry-After pauses, shutdown.

Real time, in tenths of a second; posts are awaited through a condition, not slept for.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.service.reminder_sender import ReminderSender
from bot.service.reminders import Dispatch
from tests.support.process import wait_until


class DeliveryLog:
    """A deliver function that records when each reminder was posted."""

    def __init__(self, retry_after: dict[str, float] | None = None) -> None:
        self.posted: list[tuple[str, float]] = []
        self.retry_after = retry_after or {}
        self._cond = threading.Condition()

    def __call__(self, dispatch: Dispatch) -> float | None:
        with self._cond:
            self.posted.append((dispatch.certification_id, time.monotonic()))
            self._cond.notify_all()
        return self.retry_after.get(dispatch.certification_id)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, float]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.posted) >= count, timeout), self.posted
            return list(self.posted)


def dispatch(cert_id: str, channel: str, in_seconds: float = 0.0) -> Dispatch:
    now = datetime.now(UTC)
    return Dispatch(
        certification_id=cert_id,
        version=1,
        slot=now,
        send_at=now + timedelta(seconds=in_seconds),
        channel=channel,
    )


@pytest.fixture
def started():
    senders: list[ReminderSender] = []

    def start(recorder: DeliveryLog, spacing: float = 0.3) -> ReminderSender:
        sender = ReminderSender(recorder, lambda: datetime.now(UTC), channel_spacing=spacing)
        sender.start()
        senders.append(sender)
        return sender

    yield start
    for sender in senders:
        sender.stop(timeout=2)


def test_reminders_go_out_at_their_send_time_in_order(started):
    recorder = DeliveryLog()
    sender = started(recorder)
    begin = time.monotonic()
    sender.submit([dispatch("late", "C1", 0.4), dispatch("soon", "C2", 0.2)])
    assert not sender.idle()

    posted = recorder.wait_for(2)

    assert [cert for cert, _ in posted] == ["soon", "late"]
    assert posted[0][1] - begin >= 0.19 and posted[1][1] - begin >= 0.39
    wait_until(sender.idle, 2)  # the flag clears right after the post returns


def test_posts_to_one_channel_keep_their_spacing_even_when_claimed_together(started):
    recorder = DeliveryLog()
    sender = started(recorder, spacing=0.3)
    sender.submit([dispatch("a", "C1"), dispatch("b", "C1"), dispatch("c", "C2")])

    posted = dict(recorder.wait_for(3))

    assert posted["b"] - posted["a"] >= 0.29
    assert posted["c"] - posted["a"] < 0.25  # another channel does not wait


def test_a_rate_limited_post_pauses_every_post_for_retry_after(started):
    recorder = DeliveryLog(retry_after={"limited": 0.5})
    sender = started(recorder, spacing=0.0)
    sender.submit([dispatch("limited", "C1")])
    recorder.wait_for(1)
    sender.submit([dispatch("next", "C2")])
    assert not sender.idle()  # a pass claims nothing while Slack asks to wait

    posted = dict(recorder.wait_for(2))

    assert posted["next"] - posted["limited"] >= 0.49


def test_stopping_returns_the_claims_not_yet_posted(started):
    recorder = DeliveryLog()
    sender = started(recorder)
    sender.submit([dispatch("now", "C1"), dispatch("later", "C2", 30)])
    recorder.wait_for(1)

    unsent = sender.stop(timeout=2)

    assert [d.certification_id for d in unsent] == ["later"]
