"""manifest.yml creates an app with everything the bot listens to and needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.commands import TABLE

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
REQUEST_URL = "https://YOUR-HOST/slack/events"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_uses_manifest_schema_v2_and_names_the_app(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 2
    assert manifest["display_information"]["name"] == "skillbot"
    assert len(manifest["display_information"]["description"]) <= 140
    assert manifest["features"]["bot_user"] == {"display_name": "skillbot", "always_online": True}


def test_declares_the_skill_command(manifest: dict[str, Any]) -> None:
    [command] = manifest["features"]["slash_commands"]

    assert command["command"] == "/skill"
    assert command["url"] == REQUEST_URL
    assert command["should_escape"] is False
    hinted = command["usage_hint"].split("]")[0].strip("[").split("|")
    assert hinted == list(TABLE), "the usage hint lists every subcommand of the table, in order"


def test_subscribes_to_the_events_the_bot_handles(manifest: dict[str, Any]) -> None:
    events = manifest["settings"]["event_subscriptions"]

    assert events["request_url"] == REQUEST_URL
    assert set(events["bot_events"]) == {"reaction_added", "reaction_removed", "app_home_opened"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_enables_interactivity_for_the_plan_buttons(manifest: dict[str, Any]) -> None:
    interactivity = manifest["settings"]["interactivity"]

    assert interactivity == {"is_enabled": True, "request_url": REQUEST_URL}
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_requests_exactly_the_scopes_the_bot_uses(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]["bot"]

    assert sorted(scopes) == [
        "channels:history",  # a post whose answer was lost is looked up by its key
        "chat:write",
        "chat:write.public",
        "commands",
        "files:write",  # a health report's chart, shared in the announcement's thread
        "groups:history",
        "reactions:read",
    ]
