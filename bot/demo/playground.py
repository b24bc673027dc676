"""The playground: a Slack-like page served beside the fake Slack Web API.

The bot talks to :class:`~bot.devkit.fake_slack.FakeSlack`; the playground listens to every
call it records and keeps what a Slack client would show (channels, threads, ephemeral
messages, App Home, reactions). What a person does on the page becomes a signed request
to the bot, exactly as Slack would send it::

    playground = Playground(fake, bot_url="http://127.0.0.1:3001", signing_secret=secret,
                            aws_endpoint=moto_url)
    playground.command(OPERATOR.id, "C0TRIVIA", "/skill status")

The page also does what a pipeline or Alexa would (deploy new code, pass or fail the
review). It reads ``GET /playground/state?since=REV`` (long
polling: the answer comes as soon as anything changed) and posts its actions to
``/playground/…``.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from importlib import resources
from typing import Any

from bot.adapters.lambda_aws import LIVE_ALIAS_TAG
from bot.demo import seed
from bot.demo.timeline import BOT_NAME, Origin, Timeline, blocks_of, person_name
from bot.devkit.aws import lambda_client
from bot.devkit.fake_slack import BOT_USER_ID, FakeSlack
from bot.devkit.fake_slack_http import WebRequest, WebResponse
from bot.devkit.fake_smapi import FakeSmapi
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    post,
    reaction_added_event,
    sign,
    slash_command_body,
)

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 20.0
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


class Playground(Timeline):
    """The page's state (:class:`Timeline`), what people do on it, and its HTTP face."""

    def __init__(
        self,
        slack: FakeSlack,
        *,
        bot_url: str,
        signing_secret: str,
        aws_endpoint: str,
        smapi: FakeSmapi | None = None,
        people: tuple[seed.Person, ...] = seed.PEOPLE,
    ) -> None:
        self.slack = slack
        self.people = people
        self.bot_url = bot_url.rstrip("/")
        self.signing_secret = signing_secret
        self.aws_endpoint = aws_endpoint
        self.smapi = smapi
        super().__init__()
        #: the release number the next "deploy" puts on $LATEST
        self._release = 3  # seed.seed_aws put release 3 on $LATEST
        self._aws_reader = threading.Thread(target=self._read_aws, name="aws-view", daemon=True)
        self._aws_reader.start()
        slack.subscribe(self._on_call)
        slack.mount("/", self._serve_static)
        slack.mount("/playground/", self._serve_api)

    def close(self) -> None:
        self._closed.set()
        self._aws_stale.set()
        with self._cond:
            self._cond.notify_all()  # long polls return at once
        self._aws_reader.join(timeout=5)

    # -- AWS as the console would show it ------------------------------------------------

    def _read_aws(self) -> None:
        client = None
        while not self._closed.is_set():
            self._aws_stale.wait()
            self._aws_stale.clear()
            if self._closed.is_set():
                return
            try:
                client = client or lambda_client(self.aws_endpoint)
                view = _aws_view(client)
            except Exception as err:  # moto stopping, or not up yet: shown, retried later
                view = {"error": str(err)}
            with self._cond:
                if view != self._aws:
                    self._aws = view
                    self._aws_rev = self._next_rev()
                    self._changed()

    # -- what a person does on the page ----------------------------------------------------

    def command(self, user: str, channel: str, text: str) -> None:
        """Text typed in the composer: ``/skill …`` goes to the bot, other text is a post."""
        text = text.strip()
        if not text:
            return
        command, _, rest = text.partition(" ")
        if command != "/skill":
            with self._cond:
                if not text.startswith("/"):
                    self._add(channel=channel, user=user, text=text)
                else:
                    self._add(
                        channel=channel,
                        user="USLACKBOT",
                        text=f"`{command}` is not a valid command. This app only has `/skill`.",
                        ephemeral_to=user,
                    )
                self._changed()
            return
        with self._cond:
            self._seq += 1
            message_id = f"cmd:{self._seq}"
        url = self.slack.response_url()
        with self._cond:
            self._origins[url] = Origin(message_id, channel, user, None)
            self._note("info", f"{person_name(user)} ran {text}")
            self._changed()
        body = slash_command_body(rest, user_id=user, channel_id=channel, response_url=url)
        status, answer = self._send(body, f"{command} {rest}")
        if status == 200 and answer.strip():
            self._show_ack(message_id, channel, user, answer)

    def _show_ack(self, message_id: str, channel: str, user: str, answer: str) -> None:
        """The HTTP answer to a slash command is shown to its user (unless already replaced)."""
        try:
            parsed = json.loads(answer)
        except json.JSONDecodeError:
            parsed = {"text": answer}
        if not isinstance(parsed, dict):
            return
        with self._cond:
            if message_id in self._messages:
                return  # the final answer came through the response_url first
            self._add(
                channel=channel,
                text=str(parsed.get("text") or ""),
                blocks=blocks_of(parsed.get("blocks")),
                ephemeral_to=None if parsed.get("response_type") == "in_channel" else user,
                message_id=message_id,
            )
            self._changed()

    def click(self, user: str, message_id: str, action_id: str, value: str, block_id: str) -> None:
        """A button: a signed ``block_actions`` with a response_url tied to its message."""
        with self._cond:
            message = self._messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id}")
        url = self.slack.response_url()
        with self._cond:
            self._origins[url] = Origin(message.id, message.channel, user, message.thread_ts)
            self._note("info", f"{person_name(user)} clicked {action_id}")
            self._changed()
        body = block_action_body(
            action_id,
            value,
            user_id=user,
            response_url=url,
            message_ts=None if message.ephemeral_to else message.ts,
            channel_id=message.channel,
            block_id=block_id,
        )
        self._send(body, f"click {action_id}")

    def react(self, user: str, message_id: str, name: str) -> None:
        """Toggle a reaction: ``reaction_added`` or ``reaction_removed`` (a fresh event_id)."""
        with self._cond:
            message = self._messages.get(message_id)
            if message is None or message.ephemeral_to:
                raise LookupError("reactions go on channel messages only")
            users = message.reactions.setdefault(name, [])
            removing = user in users
            if removing:
                users.remove(user)
                if not users:
                    del message.reactions[name]
            else:
                users.append(user)
            self._touch(message)
            self._note(
                "info", f"{person_name(user)} {'removed' if removing else 'reacted'} :{name}:"
            )
            self._changed()
        event = reaction_added_event(
            user, name, message.channel, message.ts, message.user, removed=removing
        )
        self._send_event(event, "reaction")

    def open_home(self, user: str) -> None:
        """The App Home tab: Slack sends ``app_home_opened``."""
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        self._send_event(event, "App Home")

    def deploy(self) -> str:
        """New code on ``$LATEST`` (update_function_code), as a CI pipeline would do."""
        with self._cond:
            self._release += 1
            release = self._release
        sha = seed.deploy_new_code(self.aws_endpoint, release)
        self._aws_stale.set()
        self.note("info", f"CI deployed release {release} to $LATEST (code {sha[:10]})")
        return sha

    def alexa_review(self, passed: bool) -> None:
        """What Amazon's certification team decides (the fake SMAPI's latest review)."""
        if self.smapi is None:
            raise LookupError("start the demo with --alexa to use the fake SMAPI")
        status = "SUCCEEDED" if passed else "FAILED"
        self.smapi.set_certification(seed.ALEXA_SKILL_ID, status)
        self.note(
            "info",
            f"Alexa review set to {status}; the bot reads it at its next status check "
            f"(every {seed.ALEXA_POLL_EVERY})",
        )

    def _send_event(self, event: dict[str, Any], what: str) -> None:
        """An event with a random event_id (the default ids restart with each demo run)."""
        self._send(event_body(event, event_id=f"Ev{secrets.token_hex(6).upper()}"), what)

    def _send(self, body: str, what: str) -> tuple[int, str]:
        try:
            status, answer = post(
                f"{self.bot_url}/slack/events", body, sign(body, self.signing_secret), timeout=10
            )
        except OSError as err:
            self.note("error", f"{what}: the bot did not answer ({err})")
            return 0, ""
        if status != 200:
            self.note("error", f"{what}: the bot answered HTTP {status} {answer[:200]}")
        return status, answer

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
        if request.verb == "GET" and action.startswith("file/"):
            content = self.slack.file_content(action.removeprefix("file/"))
            if content is None:
                return WebResponse.json({"ok": False, "error": "file_not_found"}, 404)
            return WebResponse(200, content, "image/png")
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
            "people": [asdict(p) for p in self.people],
            "channels": [{"id": k, "name": v} for k, v in seed.CHANNELS.items()],
            "skill_channel": seed.SKILL_CHANNEL,
            "skill": seed.SKILL,
            "function": seed.FUNCTION,
            "alexa": self.smapi is not None,
            "aws_endpoint": self.aws_endpoint,
        }


def _aws_view(client: Any) -> dict[str, Any]:
    """The aliases, the role tag and ``$LATEST``, read from the embedded AWS."""
    fn = client.get_function(FunctionName=seed.FUNCTION)["Configuration"]
    tags = client.list_tags(Resource=fn["FunctionArn"]).get("Tags", {})
    aliases = {
        a["Name"]: a["FunctionVersion"]
        for a in client.list_aliases(FunctionName=seed.FUNCTION)["Aliases"]
    }
    versions = client.list_versions_by_function(FunctionName=seed.FUNCTION)["Versions"]
    return {
        "function": seed.FUNCTION,
        "aliases": aliases,
        "live": tags.get(LIVE_ALIAS_TAG),
        "latest_sha": str(fn.get("CodeSha256", ""))[:10],
        "versions": [v["Version"] for v in versions if v["Version"] != "$LATEST"],
    }
