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

from bot.adapters.apigateway import GatewayAdapter
from bot.adapters.lambda_aws import LambdaAdapter, lambda_client_config
from bot.adapters.scheduler import Scheduler
from bot.adapters.slack_notifier import SlackNotifier, web_client
from bot.adapters.smapi import SmapiClient, SmapiCredentials
from bot.adapters.store import SqlStore, open_store
from bot.config import Settings, SkillsFile
from bot.domain.errors import ConfigError
from bot.domain.model import Skill
from bot.ports import Clock, GatewayPort, LambdaPort, Notifier, SmapiPort
from bot.schedules import build_schedules
from bot.service.access import AccessPolicy
from bot.service.alexa import AlexaTracking, ReviewLines
from bot.service.alexa_endpoints import EndpointBook, Polling, StageEndpoints
from bot.service.announcing import Announcer, ReviewStatus, no_review
from bot.service.applying import Applying
from bot.service.context import RotationContext
from bot.service.gateway import GatewayChecks
from bot.service.home import HomeTab
from bot.service.outbox import Outbox, RetryBook
from bot.service.planning import Planning
from bot.service.promotion import Promotion
from bot.service.reading import Reading
from bot.service.recovery import Recovery
from bot.service.reminders import Pacing, ReminderService
from bot.service.requests import PlanRequests
from bot.service.rotation import RotationService

log = logging.getLogger(__name__)

RECOVERY_EVERY = 60.0  # seconds; also runs once at start
OUTBOX_EVERY = 5.0  # seconds; a refused post also waits its own pause (5 s, doubling)
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
    outbox: Outbox
    reminders: ReminderService
    clock: Clock
    region: str | None
    #: the thread pool Bolt runs slow listeners on (after the ack)
    listener_pool: ThreadPoolExecutor
    web_client: Any = None
    alexa: AlexaTracking | None = None
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


def aws_client_factory(settings: Settings) -> Callable[[str, str], Any]:
    """boto3 clients of other services (API Gateway), per region, built like Lambda's: the
    standard credential chain, ``AWS_ENDPOINT_URL``, standard retries."""
    import boto3

    def client(service: str, region: str) -> Any:
        make: Any = boto3.client  # the service is named at run time
        return make(
            service, region_name=region or settings.aws_region, config=lambda_client_config()
        )

    return client


def build_services(
    settings: Settings,
    config: SkillsFile,
    *,
    lambda_client: Any = None,
    slack_client: Any = None,
    smapi: SmapiPort | None = None,
    clock: Clock = utc_now,
    pacing: Pacing | None = None,
    aws_clients: Callable[[str, str], Any] | None = None,
    polling: Polling | None = None,
) -> Services:
    """Build the real adapters from settings (pass clients to replace boto3's, Slack's
    or SMAPI's in tests), then :func:`compose` the services over them."""
    if lambda_client is None:
        lambda_client = aws_lambda_client(settings)
    region = getattr(getattr(lambda_client, "meta", None), "region_name", None)
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
        gateway=GatewayAdapter(lambda_client, aws_clients or aws_client_factory(settings)),
        clock=clock,
        region=region,
        web_client=slack_client,
        pacing=pacing,
        polling=polling,
    )


def compose(
    settings: Settings,
    config: SkillsFile,
    *,
    lambda_: LambdaPort,
    store: SqlStore,
    notifier: Notifier,
    smapi: SmapiPort | None = None,
    gateway: GatewayPort | None = None,
    clock: Clock = utc_now,
    region: str | None = None,
    web_client: Any = None,
    pacing: Pacing | None = None,
    lock_timeout: float = 15.0,
    lazy_workers: int = 16,
    polling: Polling | None = None,
) -> Services:
    """Wire every use case over the given ports (real ones, or the tests' fakes)."""
    skills = config.to_skills()
    approvers = list(config.approvers)
    reviews = store.reviews()
    review_status: ReviewStatus = ReviewLines(reviews) if smapi is not None else no_review
    endpoints = EndpointBook(lambda_)
    gateway_checks = GatewayChecks(gateway, lambda_) if gateway is not None else None

    ctx = RotationContext(
        skills,
        lambda_,
        store,
        AccessPolicy(
            frozenset(config.operators), frozenset(config.approvers), frozenset(config.pipelines)
        ),
        clock,
        lock_timeout=lock_timeout,
    )
    reading = Reading(ctx, endpoint_of=endpoints.uri_or_none)
    home = HomeTab(
        reading,
        notifier,
        always_shown_to=[*config.operators, *config.approvers],
        region=region,
        review_status=review_status,
    )
    retries = RetryBook(clock)
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
        retries=retries,
        endpoint_line=lambda cert: endpoints.certification_line(
            cert, skills[cert.skill], smapi=smapi is not None
        ),
    )
    alexa = (
        AlexaTracking(
            smapi,
            reviews,
            skills,
            clock,
            announcer,
            StageEndpoints(smapi, endpoints, polling),
            approvers=approvers,
            reaction=config.promote_reaction,
        )
        if smapi is not None
        else None
    )
    aws_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="skillbot-aws")
    applying = Applying(ctx, announcer, alexa=alexa, pool=aws_pool, gateway=gateway_checks)
    promotion = Promotion(
        ctx,
        announcer,
        reaction=config.promote_reaction,
        approvers=approvers,
        four_eyes=config.four_eyes,
        before_promotion=alexa.publish_before_promotion if alexa else None,
    )
    planning = Planning(
        ctx,
        live_endpoints=alexa.live_endpoints if alexa else None,
        alias_endpoints=lambda skill: {a: e.uri for a, e in endpoints.by_alias(skill).items()},
        gateway=gateway_checks,
    )
    rotation = RotationService(
        ctx,
        planning,
        applying,
        promotion,
        reading,
        alexa,
        endpoints,
        requests=PlanRequests(ctx, notifier),
    )
    outbox = Outbox(store, announcer, retries, clock)
    recovery = Recovery(store, lambda_, applying, promotion, announcer, outbox, clock)
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
        outbox=outbox,
        reminders=reminders,
        clock=clock,
        region=region,
        listener_pool=listener_pool,
        web_client=web_client,
        alexa=alexa,
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
        # what Slack refused is posted again as soon as it accepts
        ("outbox", OUTBOX_EVERY, services.outbox.run),
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
