from __future__ import annotations

import os

import pytest
from moto import mock_aws


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
