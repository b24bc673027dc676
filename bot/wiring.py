"""The composition root: the one place where adapters are built and wired together.

Nothing is created at import time anywhere in ``bot``; ``__main__`` and the tests call
:func:`build_services` with settings (and, in tests, fakes in place of real clients)::

    services = build_services(load_settings(), load_skills_file("skillbot.toml"))
    app = build_app(services)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.adapters.lambda_aws import LambdaAdapter, lambda_client_config
from bot.adapters.slack_notifier import SlackNotifier, web_client
from bot.adapters.smapi import SmapiClient, SmapiCredentials
from bot.adapters.store import SqlStore, open_store
from bot.alexa import AlexaTracking
from bot.announcer import Announcer
from bot.config import Settings, SkillsFile
from bot.domain.errors import ConfigError
from bot.domain.model import Change, Operation, Skill
from bot.ports import Clock, LambdaPort, Notifier
from bot.services import AccessPolicy, RotationService

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything the Slack app, the scheduler and the jobs use, built once."""

    settings: Settings
    config: SkillsFile
    skills: dict[str, Skill]
    store: SqlStore
    lambda_: LambdaPort
    rotation: RotationService
    notifier: Notifier
    announcer: Announcer
    clock: Clock
    region: str | None
    web_client: Any = None
    smapi: SmapiClient | None = None
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


def build_services(
    settings: Settings,
    config: SkillsFile,
    *,
    lambda_client: Any = None,
    slack_client: Any = None,
    clock: Clock = utc_now,
) -> Services:
    """Build every adapter from settings; pass clients to replace the real ones in tests."""
    skills = config.to_skills()
    if lambda_client is None:
        import boto3
        from botocore.exceptions import NoRegionError

        # the standard credential chain and AWS_ENDPOINT_URL are read by boto3 itself
        try:
            lambda_client = boto3.client(
                "lambda", region_name=settings.aws_region, config=lambda_client_config()
            )
        except NoRegionError:
            raise ConfigError(
                "No AWS region is configured.",
                hint="Set AWS_REGION (or AWS_DEFAULT_REGION, or a region in your AWS profile).",
            ) from None
    region = getattr(getattr(lambda_client, "meta", None), "region_name", None)
    lambda_ = LambdaAdapter(lambda_client)
    store = open_store(settings.database_url)
    if slack_client is None:
        slack_client = web_client(settings.slack_bot_token, settings.slack_api_url)
    notifier = SlackNotifier(slack_client)
    access = AccessPolicy(frozenset(config.operators), frozenset(config.approvers))
    rotation = RotationService(skills, lambda_, store, access, clock)
    smapi = None
    if settings.smapi_enabled:
        smapi = SmapiClient(
            SmapiCredentials(
                settings.alexa_lwa_client_id or "",
                settings.alexa_lwa_client_secret or "",
                settings.alexa_lwa_refresh_token or "",
            ),
            base_url=settings.alexa_smapi_url,
            token_url=settings.alexa_lwa_token_url,
        )
    announcer = Announcer(
        notifier,
        store,
        skills,
        approvers=config.approvers,
        reaction=config.promote_reaction,
        region=region,
        clock=clock,
    )
    services = Services(
        settings=settings,
        config=config,
        skills=skills,
        store=store,
        lambda_=lambda_,
        rotation=rotation,
        notifier=notifier,
        announcer=announcer,
        clock=clock,
        region=region,
        web_client=slack_client,
        smapi=smapi,
    )
    if smapi is not None:
        services.alexa = wire_alexa(services, smapi)
    services.closers.append(store.close)
    return services


def wire_alexa(services: Services, smapi: Any) -> AlexaTracking:
    """Turn the SMAPI features on: status in messages, publish at promotion, withdraw at
    cancel, endpoint drift in doctor."""
    announcer = services.announcer
    alexa = AlexaTracking(
        smapi,
        services.store.engine,
        services.skills,
        services.clock,
        thread_reply=announcer.thread_reply,
        refresh_message=lambda cert: announcer.certification_changed(cert),
        approvers=list(services.config.approvers),
        reaction=services.config.promote_reaction,
    )
    services.rotation.before_promotion = alexa.publish_before_promotion
    services.rotation.live_endpoints = alexa.live_endpoints
    announcer.review_status = alexa.review_status

    def withdraw_on_cancel(change: Change) -> None:
        if change.plan.operation is Operation.CANCEL and change.certification:
            told = alexa.withdraw(change.certification, change.plan.reason)
            if told:
                announcer.thread_reply(change.certification, told)

    announcer.after_change.append(withdraw_on_cancel)
    return alexa
