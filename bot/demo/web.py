"""The playground's HTTP face: the static page and its JSON API (``/playground/…``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from importlib import resources
from typing import Any

from bot.demo import seed
from bot.demo.people import PeopleActions
from bot.demo.timeline import BOT_NAME
from bot.devkit.fake_slack import BOT_USER_ID
from bot.devkit.fake_slack_http import WebRequest, WebResponse

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 20.0
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


class PlaygroundWeb(PeopleActions):
    """Serves the page and turns its requests into the people's actions."""

    # -- HTTP ------------------------------------------------------------------------------

    def _serve_static(self, request: WebRequest) -> WebResponse:
        name = "index.html" if request.path == "/" else request.path.removeprefix("/static/")
        if "/" in name or name.startswith(".") or request.path not in ("/", f"/static/{name}"):
            return WebResponse(404, b"not found\n", "text/plain; charset=utf-8")
        try:
            data = resources.files("bot.demo").joinpath("static", name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return WebResponse(404, b"not found\n", "text/plain; charset=utf-8")
        suffix = name[name.rfind(".") :]
        return WebResponse(
            200,
            data,
            STATIC_TYPES.get(suffix, "application/octet-stream"),
            {"Cache-Control": "no-cache"},
        )

    def _serve_api(self, request: WebRequest) -> WebResponse:
        action = request.path.removeprefix("/playground/")
        if request.verb == "GET" and action == "state":
            since = int(request.query.get("since") or 0)
            wait = LONG_POLL_SECONDS if request.query.get("wait") else 0.0
            return WebResponse.json(self.snapshot(since, wait))
        if request.verb == "GET" and action == "config":
            return WebResponse.json(self.config())
        if request.verb != "POST":
            return WebResponse.json({"ok": False, "error": "method_not_allowed"}, 405)
        try:
            data = json.loads(request.body or b"{}")
        except json.JSONDecodeError:
            return WebResponse.json({"ok": False, "error": "invalid_json"}, 400)
        handlers: dict[str, Callable[[dict[str, Any]], object]] = {
            "command": lambda d: self.command(d["user"], d["channel"], d["text"]),
            "click": lambda d: self.click(
                d["user"], d["message"], d["action_id"], d.get("value", ""), d.get("block_id", "")
            ),
            "react": lambda d: self.react(d["user"], d["message"], d["name"]),
            "home": lambda d: self.open_home(d["user"]),
            "deploy": lambda d: self.deploy(),
            "alexa": lambda d: self.alexa_review(bool(d["passed"])),
        }
        handler = handlers.get(action)
        if handler is None:
            return WebResponse.json({"ok": False, "error": "unknown_action"}, 404)
        try:
            handler(data)
        except (KeyError, LookupError, TypeError) as err:
            return WebResponse.json({"ok": False, "error": str(err)}, 400)
        except Exception as err:
            log.exception("playground action %s failed", action)
            self.note("error", f"{action} failed: {err}")
            return WebResponse.json({"ok": False, "error": str(err)}, 500)
        return WebResponse.json({"ok": True})

    def config(self) -> dict[str, Any]:
        """Who and where: the people, the channels, the bot, and what the demo offers."""
        return {
            "bot": {"id": BOT_USER_ID, "name": BOT_NAME},
            "people": [asdict(p) for p in seed.PEOPLE],
            "channels": [{"id": k, "name": v} for k, v in seed.CHANNELS.items()],
            "skill_channel": seed.SKILL_CHANNEL,
            "skill": seed.SKILL,
            "function": seed.FUNCTION,
            "alexa": self.smapi is not None,
            "aws_endpoint": self.aws_endpoint,
        }
