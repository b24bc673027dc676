"""What the scheduler runs: reminder passes and the periodic maintenance tasks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.adapters.scheduler import Job, Scheduler
from bot.bootstrap.wiring import Runtime
from bot.service.reminder_sender import ReminderPasses, ReminderSender

log = logging.getLogger(__name__)


RECOVERY_EVERY = 60.0  # seconds; also runs once at start
SCHEDULED_EVERY = 5.0  # seconds
HEALTH_EVERY = 30.0
#: longer than the longest health_report delay (14 days), after which its thread is used
OUTBOX_KEPT = timedelta(days=30)
OUTBOX_EVERY = 5.0  # seconds; a refused post also waits its own pause (5 s, doubling)
DELIVERIES_KEPT = timedelta(days=7)


def start_scheduler(services: Runtime) -> Callable[[], None]:
    """Start reminder passes and the maintenance jobs (crash recovery at once and every
    minute, forgetting old Slack deliveries, Alexa's review status); returns the stop."""
    store, clock, reminders = services.store, services.clock, services.reminders
    sender = ReminderSender(
        reminders.deliver, clock, channel_spacing=reminders.pacing.channel_spacing
    )
    passes = ReminderPasses(reminders, sender)
    jobs = [
        Job("certification reminders", reminders.pacing.tick, passes.run_pass),
        Job("crash recovery", RECOVERY_EVERY, services.recovery.run),
        # what Slack refused is posted again as soon as it accepts
        Job("outbox", OUTBOX_EVERY, services.outbox.run),
        # processed Slack event ids only matter while Slack may still retry
        Job(
            "forget old deliveries",
            3600.0,
            lambda: store.prune_deliveries(clock() - DELIVERIES_KEPT),
        ),
        # sent messages' rows outlive every reply or update that may follow them
        Job("forget old messages", 3600.0, lambda: store.prune_outbox(clock() - OUTBOX_KEPT)),
    ]
    if services.promotion is not None:
        # a promotion set for a time runs within seconds of it (one that was missed while
        # the bot was down runs at start, once)
        jobs.append(Job("scheduled promotions", SCHEDULED_EVERY, services.promotion.run_due))
    health = services.health
    if health is not None and health.delays:
        # a report is due at its delay after a change: checked every half of the shortest
        # delay, at most every 30 s (half a minute late is soon enough for an hour)
        every = min(HEALTH_EVERY, max(1.0, health.delays[0].total_seconds() / 2))
        jobs.append(Job("health reports", every, health.run_due))
    canary_pass = services.canary_pass
    if canary_pass is not None:
        # often enough that a check is never much later than its time (checks are in the
        # database: a pass with nothing due costs one query)
        every = min(5.0, canary_pass.canaries.pacing.check_every / 2)
        jobs.append(Job("canaries", every, canary_pass.run_pass))
    alexa = services.alexa
    if alexa is not None:
        jobs.append(
            Job(
                "Alexa certification status",
                # SMAPI's review status changes over days; the demo reads it every few seconds
                services.config.alexa_poll_seconds(),
                lambda: alexa.poll(store.pending_certifications()),
            )
        )
    scheduler = Scheduler(jobs, timezone=services.config.timezone)
    sender.start()
    scheduler.start()

    def stop() -> None:  # stopping twice is harmless
        scheduler.stop()  # no pass runs after this
        passes.stop()

    log.info(
        "reminders: scheduled (%s, %s) as %s",
        services.config.reminder_schedule,
        services.config.timezone,
        services.reminders.owner,
    )
    services.closers.append(stop)
    return stop
