"""The SMAPI client over the fake SMAPI, and what the fake was asked (the ``smapi``
fixture of tests/conftest.py is the fake, knowing the skill ``SKILL_ID``)::

    client = smapi_client(smapi)
    assert smapi_calls(smapi) == ["GET /stages/development/manifest", ...]
"""

from __future__ import annotations

from typing import Any

from bot.adapters.smapi import SmapiClient, SmapiCredentials
from bot.devkit.fake_smapi import FakeSmapi
from tests.support.fakes import SKILL_ID


def smapi_client(fake: FakeSmapi, *, timeout: float = 2.0, **options: Any) -> SmapiClient:
    """The real client, with the fake's Login with Amazon credentials."""
    credentials = SmapiCredentials(fake.client_id, fake.client_secret, fake.refresh_token)
    return SmapiClient(
        credentials, base_url=fake.base_url, token_url=fake.token_url, timeout=timeout, **options
    )


def smapi_calls(fake: FakeSmapi, since: int = 0, skill: str = SKILL_ID) -> list[str]:
    """The requests about ``skill`` since the ``since``-th: method and path after the
    skill id, with the query."""
    return [
        f"{r.method} {r.path.split(skill, 1)[1]}" + (f"?{r.query}" if r.query else "")
        for r in fake.requests[since:]
        if skill in r.path
    ]
