"""The composition root: every object of the running bot is built here, by constructor
arguments, and nowhere else (nothing is created at import time anywhere in ``bot``).

``__main__`` and the tests call :func:`build_services` with settings (and, in tests, fake
clients in place of the real ones); the entry point then starts what its role needs::

    services = build_services(load_settings(), load_skills_file("skillbot.toml"))
    app = bolt_app(services)              # handlers.register(app, services) adds listeners
    stop = start_scheduler(services)      # reminders, recovery, Alexa's status
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.adapters.lambda_aws import LambdaAdapter, lambda_client_config
from bot.adapters.scheduler import Scheduler
from bot.adapters.slack_notifier import SlackNotifier, web_client
from bot.adapters.smapi import SmapiClient, SmapiCredentials
from bot.adapters.store import SqlStore, open_store
from bot.config import Settings, SkillsFile
from bot.domain.errors import ConfigError
from bot.domain.locations import function_location
from bot.domain.model import Skill
from bot.ports import Clock, LambdaPort, Notifier, SmapiPort
from bot.schedules import build_schedules
from bot.service.access import AccessPolicy
from bot.service.alexa import AlexaTracking, ReviewLines
from bot.service.announcing import Announcer, ReviewStatus, no_review
from bot.service.applying import Applying
from bot.service.context import RotationContext
from bot.service.home import HomeTab
from bot.service.planning import Planning
from bot.service.promotion import Promotion
from bot.service.reading import Reading
from bot.service.recovery import Recovery
from bot.service.reminders import Pacing, ReminderService
from bot.service.rotation import RotationService

log = logging.getLogger(__name__)

RECOVERY_EVERY = 60.0  # seconds; also runs once at start
ALEXA_POLL_EVERY = 300.0  # seconds; SMAPI's review status changes over days
DELIVERIES_KEPT = timedelta(days=7)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything the faces (Slack, the command line) and the scheduler use, built once."""

    settings: Settings
    config: SkillsFile
    skills: dict[str, Skill]
    store: SqlStore
    lambda_: LambdaPort
    notifier: Notifier
    announcer: Announcer
    rotation: RotationService
    home: HomeTab
    recovery: Recovery
    reminders: ReminderService
    clock: Clock
    region: str | None
    #: the thread pool Bolt runs slow listeners on (after the ack)
    listener_pool: ThreadPoolExecutor
    web_client: Any = None
    alexa: AlexaTracking | None = None
    #: where Lambda calls go (AWS_ENDPOINT_URL or AWS's own), for the start-up line
    aws_endpoint: str | None = None
    #: things to stop at shutdown, newest first
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # shutting down: report, go on with the rest
                log.exception("error while shutting down")
        self.closers.clear()


def aws_lambda_client(settings: Settings) -> Any:
    """boto3's Lambda client: the standard credential chain, ``AWS_ENDPOINT_URL``,
    ``AWS_REGION``; standard retries."""
    import boto3
    from botocore.exceptions import NoRegionError

    try:
        return boto3.client(
            "lambda", region_name=settings.aws_region, config=lambda_client_config()
        )
    except NoRegionError:
        raise ConfigError(
            "No AWS region is configured.",
            hint="Set AWS_REGION (or AWS_DEFAULT_REGION, or a region in your AWS profile).",
        ) from None


def build_services(
    settings: Settings,
    config: SkillsFile,
    *,
    lambda_client: Any = None,
    slack_client: Any = None,
    smapi: SmapiPort | None = None,
    clock: Clock = utc_now,
    pacing: Pacing | None = None,
    aws_account: Callable[[], str | None] | None = None,
) -> Services:
    """Build the real adapters from settings (pass clients to replace boto3's, Slack's
    or SMAPI's in tests), then :func:`compose` the services over them; ``aws_account``
    gives the credentials' account (once the start's check knows it), which says where
    functions are looked for."""
    if lambda_client is None:
        lambda_client = aws_lambda_client(settings)
    region = getattr(getattr(lambda_client, "meta", None), "region_name", None)
    aws_endpoint = getattr(getattr(lambda_client, "meta", None), "endpoint_url", None)
    store = open_store(settings.database_url)
    if slack_client is None:
        slack_client = web_client(settings.slack_bot_token, settings.slack_api_url)
    if smapi is None and settings.smapi_enabled:
        smapi = SmapiClient(
            SmapiCredentials(
                settings.alexa_lwa_client_id or "",
                settings.alexa_lwa_client_secret or "",
                settings.alexa_lwa_refresh_token or "",
            ),
            base_url=settings.alexa_smapi_url,
            token_url=settings.alexa_lwa_token_url,
        )
    return compose(
        settings,
        config,
        lambda_=LambdaAdapter(lambda_client),
        store=store,
        notifier=SlackNotifier(slack_client),
        smapi=smapi,
        clock=clock,
        region=region,
        web_client=slack_client,
        pacing=pacing,
        aws_account=aws_account,
        aws_endpoint=aws_endpoint,
    )


def compose(
    settings: Settings,
    config: SkillsFile,
    *,
    lambda_: LambdaPort,
    store: SqlStore,
    notifier: Notifier,
    smapi: SmapiPort | None = None,
    clock: Clock = utc_now,
    region: str | None = None,
    web_client: Any = None,
    pacing: Pacing | None = None,
    lock_timeout: float = 15.0,
    lazy_workers: int = 16,
    aws_account: Callable[[], str | None] | None = None,
    aws_endpoint: str | None = None,
) -> Services:
    """Wire every use case over the given ports (real ones, or the tests' fakes)."""
    skills = config.to_skills()
    approvers = list(config.approvers)
    reviews = store.reviews()
    review_status: ReviewStatus = ReviewLines(reviews) if smapi is not None else no_review

    ctx = RotationContext(
        skills,
        lambda_,
        store,
        AccessPolicy(frozenset(config.operators), frozenset(config.approvers)),
        clock,
        lock_timeout=lock_timeout,
    )
    reading = Reading(ctx)
    home = HomeTab(
        reading,
        notifier,
        always_shown_to=[*config.operators, *config.approvers],
        region=region,
        review_status=review_status,
    )
    announcer = Announcer(
        notifier,
        store,
        skills,
        approvers=approvers,
        reaction=config.promote_reaction,
        region=region,
        clock=clock,
        review_status=review_status,
        after_change=[home.refresh_after_change],
    )
    alexa = (
        AlexaTracking(
            smapi,
            reviews,
            skills,
            clock,
            announcer,
            approvers=approvers,
            reaction=config.promote_reaction,
        )
        if smapi is not None
        else None
    )
    aws_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="skillbot-aws")
    applying = Applying(ctx, announcer, alexa=alexa, pool=aws_pool)
    promotion = Promotion(
        ctx,
        announcer,
        reaction=config.promote_reaction,
        approvers=approvers,
        before_promotion=alexa.publish_before_promotion if alexa else None,
    )
    planning = Planning(
        ctx,
        live_endpoints=alexa.live_endpoints if alexa else None,
        function_location=lambda function: function_location(
            function, region, aws_account() if aws_account else None
        ),
    )
    rotation = RotationService(ctx, planning, applying, promotion, reading, alexa)
    recovery = Recovery(store, lambda_, applying, promotion, announcer, clock)
    reminders = ReminderService(
        store.reminder_book(),
        store,
        notifier,
        build_schedules(config, skills),
        clock=clock,
        approvers=approvers,
        reaction=config.promote_reaction,
        review_status=review_status,
        pacing=pacing,
    )
    listener_pool = ThreadPoolExecutor(max_workers=lazy_workers, thread_name_prefix="skillbot-lazy")
    services = Services(
        settings=settings,
        config=config,
        skills=skills,
        store=store,
        lambda_=lambda_,
        notifier=notifier,
        announcer=announcer,
        rotation=rotation,
        home=home,
        recovery=recovery,
        reminders=reminders,
        clock=clock,
        region=region,
        listener_pool=listener_pool,
        web_client=web_client,
        alexa=alexa,
        aws_endpoint=aws_endpoint,
    )
    services.closers.append(store.close)
    services.closers.append(lambda: aws_pool.shutdown(wait=True))
    # at shutdown, let work already acknowledged to Slack finish
    services.closers.append(lambda: listener_pool.shutdown(wait=True))
    return services


def bolt_app(services: Services) -> Any:
    """The Bolt app, without listeners (``handlers.register`` adds them); HTTP mode
    verifies Slack's signature."""
    from slack_bolt import App

    settings = services.settings
    return App(
        client=services.web_client,
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode connections are authenticated by the app token, not signatures
        request_verification_enabled=not settings.socket_mode,
        # the ack (parsing only) answers in the request's own thread; the slow work goes
        # to the lazy pool, so a busy pool never delays an acknowledgement
        process_before_response=True,
        listener_executor=services.listener_pool,
    )


def start_scheduler(services: Services) -> Callable[[], None]:
    """Start reminder passes and the maintenance jobs (crash recovery at once and every
    minute, forgetting old Slack deliveries, Alexa's review status); returns the stop."""
    store, clock = services.store, services.clock
    tasks: list[tuple[str, float, Callable[[], object]]] = [
        ("crash recovery", RECOVERY_EVERY, services.recovery.run),
        # processed Slack event ids only matter while Slack may still retry
        (
            "forget old deliveries",
            3600.0,
            lambda: store.prune_deliveries(clock() - DELIVERIES_KEPT),
        ),
    ]
    alexa = services.alexa
    if alexa is not None:
        tasks.append(
            (
                "Alexa certification status",
                ALEXA_POLL_EVERY,
                lambda: alexa.poll(store.pending_certifications()),
            )
        )
    scheduler = Scheduler(services.reminders, tasks, clock, timezone=services.config.timezone)
    scheduler.start()
    log.info(
        "reminders: scheduled (%s, %s) as %s",
        services.config.reminder_schedule,
        services.config.timezone,
        services.reminders.owner,
    )
    services.closers.append(scheduler.stop)
    return scheduler.stop
