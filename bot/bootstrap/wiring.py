"""The composition root: every use case wired over the ports it is given (real adapters,
or the tests' fakes), and the runtime that owns what must be stopped::

    cases, runtime = compose(settings, config, lambda_=..., store=..., notifier=...)
    cases.offers.propose("hotfix", "trivia", actor="U0ALICE")   # what the faces call
    runtime.close()                                             # pools, the store, …
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from bot.adapters.charts import MatplotlibCharts
from bot.adapters.slack.notifier import SlackPresenter
from bot.adapters.store import SqlStore
from bot.config import Settings, SkillsFile
from bot.domain.locations import function_location
from bot.domain.model import Change, Skill
from bot.ports import Clock, GatewayPort, LambdaPort, MetricsPort, SlackSender, SmapiPort
from bot.schedules import build_schedules
from bot.service.access import AccessPolicy
from bot.service.alexa import AlexaTracking, ReviewLines
from bot.service.alexa_endpoints import EndpointBook, Polling, StageEndpoints
from bot.service.announcing import Announcer, no_review
from bot.service.applying import Applying
from bot.service.canary import Canaries, CanaryPacing
from bot.service.canary.checks import CanaryPass
from bot.service.context import RotationContext
from bot.service.gateway import GatewayChecks
from bot.service.health import HealthReports
from bot.service.home import HomeTab
from bot.service.locking import Locking
from bot.service.moves import Moves
from bot.service.offers import Offers
from bot.service.outbox import Outbox
from bot.service.planning import Planning
from bot.service.promotion import Promotion
from bot.service.prune import Pruning
from bot.service.reading import Reading
from bot.service.recovery import Recovery
from bot.service.reminders import Pacing, ReminderService
from bot.service.requests import PlanRequests

log = logging.getLogger(__name__)

#: threads doing the work after acks (plans, status, Confirms). Measured with
#: ``python -m bench --only ack`` (24 bursts of 50 commands, AWS 1 s away, 2 cores, the
#: heap frozen at start): the acks' p99 was 1.86–2.05× a bare Bolt app's with 16 threads,
#: 1.49–1.57× with 8 and 1.20–1.46× with 4, because every thread that starts its AWS call
#: during a burst takes the interpreter from the acks still being answered. With AWS's
#: usual 50 ms calls, four threads still finish a burst of 50 status reads within seconds.
LAZY_WORKERS = 4


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class UseCases:
    """What the faces (Slack's listeners, the command line) call; nothing else."""

    config: SkillsFile
    skills: dict[str, Skill]
    region: str | None
    reading: Reading
    planning: Planning
    offers: Offers
    pruning: Pruning
    applying: Applying
    promotion: Promotion
    requests: PlanRequests
    home: HomeTab
    locking: Locking
    #: health reports and /skill report (None without CloudWatch)
    health: HealthReports | None = None


@dataclass
class Runtime:
    """What runs beside the faces and must be stopped: the scheduler's jobs, the thread
    pools, the store; :meth:`close` stops them all, newest first."""

    settings: Settings
    config: SkillsFile
    skills: dict[str, Skill]
    clock: Clock
    store: SqlStore
    lambda_: LambdaPort
    notifier: SlackSender
    announcer: Announcer
    recovery: Recovery
    outbox: Outbox
    reminders: ReminderService
    alexa: AlexaTracking | None
    #: checks and ends canaries (None without CloudWatch)
    canary_pass: CanaryPass | None
    #: the thread pool Bolt runs slow listeners on (after the ack)
    listener_pool: ThreadPoolExecutor
    web_client: Any = None
    #: where Lambda calls go (AWS_ENDPOINT_URL or AWS's own), for the start-up line
    aws_endpoint: str | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    #: runs the promotions set for a time (``/skill promote --at``)
    promotion: Promotion | None = None
    #: posts the health reports that are due (None without CloudWatch)
    health: HealthReports | None = None

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # shutting down: report, go on with the rest
                log.exception("error while shutting down")
        self.closers.clear()


class Composed(NamedTuple):
    cases: UseCases
    runtime: Runtime

    def close(self) -> None:
        self.runtime.close()


def compose(
    settings: Settings,
    config: SkillsFile,
    *,
    lambda_: LambdaPort,
    store: SqlStore,
    notifier: SlackSender,
    smapi: SmapiPort | None = None,
    gateway: GatewayPort | None = None,
    clock: Clock = utc_now,
    region: str | None = None,
    web_client: Any = None,
    pacing: Pacing | None = None,
    lock_timeout: float = 15.0,
    lazy_workers: int = LAZY_WORKERS,
    polling: Polling | None = None,
    metrics: MetricsPort | None = None,
    canary_pacing: CanaryPacing | None = None,
    aws_account: Callable[[], str | None] | None = None,
    aws_endpoint: str | None = None,
) -> Composed:
    """Wire every use case over the given ports (real ones, or the tests' fakes)."""
    skills, approvers, reaction = config.to_skills(), config.approvers, config.promote_reaction
    reviews = store.reviews()
    review_status = ReviewLines(reviews) if smapi is not None else no_review
    endpoints = EndpointBook(lambda_)
    gateway_checks = GatewayChecks(gateway, lambda_) if gateway is not None else None
    policy = AccessPolicy(*map(frozenset, (config.operators, approvers, config.pipelines)))
    ctx = RotationContext(
        skills,
        lambda_,
        store,
        policy,
        clock,
        lock_timeout=lock_timeout,
        canaries=store.canary_book(),
        timezone=config.timezone,
    )
    reading = Reading(ctx, endpoint_of=endpoints.uri_or_none)
    shown_to = [*config.operators, *approvers]
    outbox = Outbox(store, notifier, SlackPresenter(), clock)
    home = HomeTab(
        reading, outbox, always_shown_to=shown_to, region=region, review_status=review_status
    )
    health = None
    if metrics is not None:
        health = HealthReports(
            ctx, store, metrics, MatplotlibCharts(), outbox, rules=config.canary_rules(),
            delays=config.health_report_delays(),
        )  # fmt: skip
    after_change: list[Callable[[Change], None]] = [lambda _: home.refresh()]
    if health is not None:
        reports = health
        after_change.append(
            lambda change: reports.schedule(change, thread=f"announce:{change.audit_id}")
        )
    announcer = Announcer(
        outbox, store, skills, approvers=approvers, reaction=reaction, region=region,
        approvals=config.approvals, timezone=config.timezone,
        clock=clock, review_status=review_status, after_change=after_change,
        endpoint_line=lambda cert: endpoints.certification_line(
            cert, skills[cert.skill], smapi=smapi is not None
        ),
    )  # fmt: skip
    alexa = None
    if smapi is not None:
        stages = StageEndpoints(smapi, endpoints, polling or Polling())
        alexa = AlexaTracking(
            smapi, reviews, skills, clock, announcer, stages, approvers=approvers,
            reaction=reaction,
        )  # fmt: skip
    schedules = build_schedules(config.reminder_schedule, config.timezone, skills)
    reminders = ReminderService(
        store.reminder_book(), store, outbox, schedules, clock=clock, approvers=approvers,
        reaction=reaction, review_status=review_status, pacing=pacing or Pacing(),
    )  # fmt: skip
    # every placement's calls of one step (a Confirm's publish beside its read) side by side
    regions_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="skillbot-regions")
    canary_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="skillbot-canary")

    # -- the rotation's use cases ----------------------------------------------------------
    canaries = None
    if metrics is not None:
        pace = canary_pacing or CanaryPacing.for_period(config.canary_period)
        canaries = Canaries(
            ctx, store.canary_book(), outbox, rules=config.canary_rules(), pacing=pace,
            owner=reminders.owner, refresh=home.refresh, pool=canary_pool,
        )  # fmt: skip
    pruning = Pruning(ctx)
    moves = Moves(ctx, regions_pool)
    applying = Applying(
        ctx, announcer, moves, alexa=alexa, gateway=gateway_checks, canaries=canaries,
        pruning=pruning,
    )  # fmt: skip
    promotion = Promotion(
        ctx, announcer, reaction=reaction, approvers=approvers, four_eyes=config.four_eyes,
        approvals=config.approvals,
        before_promotion=alexa.publish_before_promotion if alexa else None,
    )  # fmt: skip
    planning = Planning(
        ctx, moves=moves, live_endpoints=alexa.live_endpoints if alexa else None,
        stage_targets=endpoints.targets,  # every region's, for the drift check
        gateway=gateway_checks,
        function_location=lambda function: function_location(
            function, region, aws_account() if aws_account else None
        ),
    )  # fmt: skip
    # -- end of the rotation's use cases ---------------------------------------------------

    offers = Offers(ctx, planning, reading, endpoints, alexa, canaries)
    recovery = Recovery(store, applying, promotion, announcer, outbox, clock)
    applying.on_abandoned = recovery.finish_abandoned
    # the work after each ack; few threads, so a burst of commands is acknowledged before
    # their AWS calls compete with the acks for the interpreter (see LAZY_WORKERS)
    listener_pool = ThreadPoolExecutor(max_workers=lazy_workers, thread_name_prefix="skillbot-lazy")
    cases = UseCases(
        config, skills, region, reading, planning, offers, pruning, applying, promotion,
        PlanRequests(ctx, outbox), home, Locking(ctx, announcer, refresh=home.refresh), health,
    )  # fmt: skip
    canary_pass = CanaryPass(canaries, metrics, store) if canaries and metrics else None
    runtime = Runtime(
        settings, config, skills, clock, store, lambda_, notifier, announcer, recovery, outbox,
        reminders, alexa, canary_pass, listener_pool, web_client, aws_endpoint,
    )  # fmt: skip
    # at shutdown, let work already acknowledged to Slack finish first (closed newest first)
    for pool in (regions_pool, canary_pool, listener_pool):
        runtime.closers.append(lambda pool=pool: pool.shutdown(wait=True))  # type: ignore[misc]
    runtime.closers.insert(0, store.close)
    runtime.promotion = promotion
    runtime.health = health
    return Composed(cases, runtime)


def _not_the_token_from_the_environment(record: logging.LogRecord) -> bool:
    return "`token` will be unused" not in record.getMessage()


def bolt_app(runtime: Runtime) -> Any:
    """The Bolt app, without listeners (``handlers.register`` adds them); HTTP mode
    verifies Slack's signature."""
    from slack_bolt import App

    # Bolt reads SLACK_BOT_TOKEN itself and warns that it is unused beside the client
    # (which carries that very token): a warning about nothing, at every start
    logging.getLogger("slack_bolt.App").addFilter(_not_the_token_from_the_environment)
    settings = runtime.settings
    return App(
        client=runtime.web_client,
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode connections are authenticated by the app token, not signatures
        request_verification_enabled=not settings.socket_mode,
        # the ack (parsing only) answers in the request's own thread; the slow work goes
        # to the lazy pool, so a busy pool never delays an acknowledgement
        process_before_response=True,
        listener_executor=runtime.listener_pool,
    )
