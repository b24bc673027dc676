"""What a person does on the playground page, sent to the bot as Slack would send it:
a signed slash command, a signed button click, a signed ``reaction_added`` event; and what
a pipeline or Alexa would do (deploy new code, pass or fail the review)."""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

from bot.demo import seed
from bot.demo.timeline import Origin, Timeline, blocks_of, person_name
from bot.devkit.fake_slack import FakeSlack
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


class PeopleActions(Timeline):
    """The actions of the page, over the timeline the playground keeps."""

    slack: FakeSlack
    bot_url: str
    signing_secret: str
    aws_endpoint: str
    smapi: FakeSmapi | None
    #: the release number the next "deploy" puts on $LATEST
    _release: int

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
        """Toggle a reaction; adding one sends ``reaction_added`` (with a fresh event_id)."""
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
        if removing:
            return  # the bot listens to reaction_added only
        event = reaction_added_event(user, name, message.channel, message.ts, message.user)
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
            "(every 5 minutes)",
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
