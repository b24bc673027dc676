"""Sending claimed reminders: one thread that posts them in send-time order, and the
reminder pass the scheduler runs every tick, whose claims it is handed::

    sender = ReminderSender(service.deliver, clock, channel_spacing=1.0)
    passes = ReminderPasses(service, sender)
    sender.start()
    passes.run_pass()    # every tick, from the scheduler
    passes.stop()        # at shutdown: finish the post in progress, give back unsent claims
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.ports import Clock
from bot.service.reminders import Dispatch, ReminderService

log = logging.getLogger(__name__)


class ReminderSender:
    """One thread that posts claimed reminders in send-time order.

    It waits for each claim's ``send_at``, keeps posts to one channel ``channel_spacing``
    apart (also when a post ran late), and pauses for as long as Slack's ``Retry-After``
    asks. While it has work, passes claim nothing new: a slow or rate-limited Slack
    leaves the remaining reminders due in the database, where any replica can take them.
    """

    def __init__(
        self,
        deliver: Callable[[Dispatch], float | None],
        clock: Clock,
        *,
        channel_spacing: float = 1.0,
    ) -> None:
        self._deliver = deliver
        self._clock = clock
        self._spacing = channel_spacing
        self._queue: list[tuple[datetime, int, Dispatch]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._posting = False
        self._stopping = False
        self._paused_until = 0.0  # time.monotonic()
        self._last_post: dict[str, float] = {}  # channel -> time.monotonic()
        self._thread = threading.Thread(target=self._run, name="skillbot-reminders", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, dispatches: Sequence[Dispatch]) -> None:
        if not dispatches:
            return
        with self._cond:
            for dispatch in dispatches:
                heapq.heappush(self._queue, (dispatch.send_at, next(self._order), dispatch))
            self._cond.notify_all()

    def idle(self) -> bool:
        """Nothing queued, nothing being posted, no rate-limit pause."""
        with self._cond:
            return not self._queue and not self._posting and time.monotonic() >= self._paused_until

    def stop(self, timeout: float = 20.0) -> list[Dispatch]:
        """Let the post in progress finish; return the claims that were not posted."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        with self._cond:
            unsent = [dispatch for _, _, dispatch in sorted(self._queue)]
            self._queue.clear()
        return unsent

    def _next(self) -> Dispatch | None:
        """The first claim that may go out now (another channel's is not held up)."""
        with self._cond:
            while not self._stopping:
                if not self._queue:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                wall = self._clock()
                waits = [
                    max(
                        (send_at - wall).total_seconds(),
                        self._last_post.get(d.channel, -self._spacing) + self._spacing - now,
                        self._paused_until - now,
                    )
                    for send_at, _, d in self._queue
                ]
                wait, index = min((w, i) for i, w in enumerate(waits))
                if wait > 0:
                    self._cond.wait(min(wait, 1.0))
                    continue
                _, _, dispatch = self._queue.pop(index)
                heapq.heapify(self._queue)
                self._posting = True
                return dispatch
            return None

    def _run(self) -> None:
        while (dispatch := self._next()) is not None:
            retry_after = None
            try:
                retry_after = self._deliver(dispatch)
            except Exception:  # the database went away mid-delivery: the lease recovers it
                log.exception("reminders: delivering %s failed", dispatch.certification_id)
            with self._cond:
                self._posting = False
                now = time.monotonic()
                self._last_post[dispatch.channel] = now
                if retry_after:
                    self._paused_until = max(self._paused_until, now + retry_after)
                if len(self._last_post) > 1000:  # only recent posts matter for spacing
                    cutoff = now - self._spacing
                    self._last_post = {c: t for c, t in self._last_post.items() if t > cutoff}


class ReminderPasses:
    """The reminder pass the scheduler runs every tick: its claims go to the sender."""

    def __init__(self, service: ReminderService, sender: ReminderSender) -> None:
        self.service = service
        self.sender = sender
        self._failing_since: float | None = None

    def run_pass(self) -> None:
        began = time.monotonic()
        try:
            dispatches = self.service.run_pass(claim=self.sender.idle())
        except Exception as err:
            # the database is down or restarting: say so once, not every second
            if self._failing_since is None:
                self._failing_since = time.monotonic()
                log.warning("reminders: a pass failed (%s); retrying every second", err)
            return
        if self._failing_since is not None:
            log.info(
                "reminders: passes work again after %.0f s",
                time.monotonic() - self._failing_since,
            )
            self._failing_since = None
        self.sender.submit(dispatches)
        took = time.monotonic() - began
        if took > self.service.pacing.tick:
            log.warning("reminders: a pass took %.2f s (more than a tick)", took)
        else:
            log.debug("reminders: pass took %.1f ms, %d claimed", took * 1000, len(dispatches))

    def stop(self) -> None:
        """Stop the sender (the post in progress finishes) and give back unsent claims;
        stopping again gives back nothing more."""
        unsent = self.sender.stop()
        try:
            self.service.release(unsent)
        except Exception:  # leases expire anyway
            log.exception("reminders: could not give back %d claim(s)", len(unsent))
