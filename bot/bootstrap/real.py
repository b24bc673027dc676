"""The real adapters built from settings: boto3 clients (the standard credential chain,
``AWS_ENDPOINT_URL``, ``AWS_REGION``), the Slack Web API client, SMAPI."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.adapters.apigateway import GatewayAdapter
from bot.adapters.cloudwatch import CloudWatchMetrics
from bot.adapters.lambda_aws import LambdaAdapter, lambda_client_config
from bot.adapters.slack.notifier import SlackSender, web_client
from bot.adapters.smapi import SmapiClient, SmapiCredentials
from bot.adapters.startup_checks import NO_REGION_HINT, standard_chain
from bot.adapters.store import open_store
from bot.bootstrap.wiring import Composed, compose, utc_now
from bot.config import Settings, SkillsFile
from bot.domain.errors import ConfigError
from bot.ports import Clock, SmapiPort
from bot.service.alexa_endpoints import Polling
from bot.service.reminders import Pacing

log = logging.getLogger(__name__)


def no_region() -> ConfigError:
    return ConfigError("No AWS region is configured.", hint=NO_REGION_HINT)


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
        raise no_region() from None


def aws_problems(settings: Settings, *, credentials: bool = True) -> list[ConfigError]:
    """What would stop the first AWS call, found without making one, as the start finds
    it: a profile that is not configured, no region, and (with ``credentials``) no
    credentials in the chain."""
    _, _, lacking = standard_chain(settings.aws_region, credentials=credentials)
    return [ConfigError(failure.message, hint=failure.hint) for failure in lacking]


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
    polling: Polling | None = None,
    aws_account: Callable[[], str | None] | None = None,
) -> Composed:
    """Build the real adapters from settings (pass clients to replace boto3's Lambda,
    Slack's or SMAPI's in tests), then :func:`compose` the services over them; ``aws_account``
    gives the credentials' account (once the start's check knows it), which says where
    functions are looked for."""
    if lambda_client is None:
        lambda_client = aws_lambda_client(settings)
    region = getattr(getattr(lambda_client, "meta", None), "region_name", None)
    aws_endpoint = getattr(getattr(lambda_client, "meta", None), "endpoint_url", None)
    clients = aws_client_factory(settings)
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
        # functions in other regions (a skill's regional functions): one client per region,
        # built like the default one (AWS_ENDPOINT_URL applies to each)
        lambda_=LambdaAdapter(lambda_client, regional_client=lambda r: clients("lambda", r)),
        store=store,
        notifier=SlackSender(slack_client),
        smapi=smapi,
        gateway=GatewayAdapter(lambda_client, clients),
        clock=clock,
        region=region,
        web_client=slack_client,
        pacing=pacing,
        polling=polling,
        # the canary's figures: Lambda's region and credentials (a regional function's
        # are its own region's)
        metrics=CloudWatchMetrics(
            connect=lambda: clients("cloudwatch", region or ""),
            regional_client=lambda r: clients("cloudwatch", r),
        ),
        aws_account=aws_account,
        aws_endpoint=aws_endpoint,
    )
