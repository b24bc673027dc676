from __future__ import annotations

import os

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bot.adapters.lambda_aws import LambdaAdapter, lambda_client_config
from bot.adapters.smapi import SmapiClient
from bot.devkit.aws import create_skill_function
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.fake_smapi import FakeSmapi
from tests.support.slack_world import make_slack_world
from tests.support.smapi import smapi_client


@pytest.fixture
def aws(monkeypatch):
    """In-process moto with fake credentials, so no real account is ever touched."""
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield os.environ["AWS_DEFAULT_REGION"]


@pytest.fixture
def world(aws, tmp_path):
    """The real Bolt app over moto (trivia-skill: PROD1 → v1, PROD2 → v2) and the fake Slack."""
    client = create_skill_function("trivia-skill")
    with FakeSlack() as fake:
        w = make_slack_world(fake, client, f"sqlite:///{tmp_path / 'bot.db'}")
        yield w
        w.services.close()


@pytest.fixture
def stubbed():
    """The Lambda adapter over a client whose answers are botocore's Stubber's: the real
    AWS errors moto does not produce (a stale RevisionId, refused credentials, …)."""
    client = boto3.client(
        "lambda",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=lambda_client_config(max_attempts=1),
    )
    with Stubber(client) as stub:
        yield LambdaAdapter(client), stub
        stub.assert_no_pending_responses()


@pytest.fixture
def fake(smapi: FakeSmapi) -> FakeSmapi:
    """The SMAPI client tests' fake SMAPI (the ``smapi`` of tests/conftest.py)."""
    return smapi


@pytest.fixture
def client(fake: FakeSmapi) -> SmapiClient:
    """The real SMAPI client over :func:`fake`."""
    return smapi_client(fake)
