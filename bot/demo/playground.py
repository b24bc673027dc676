"""The playground: a Slack-like page served beside the fake Slack Web API.

The bot talks to :class:`~bot.devkit.fake_slack.FakeSlack`; the playground listens to every
call it records and keeps what a Slack client would show (channels, threads, ephemeral
messages, App Home, reactions). What a person does on the page becomes a signed request
to the bot, exactly as Slack would send it::

    playground = Playground(fake, bot_url="http://127.0.0.1:3001", signing_secret=secret,
                            aws_endpoint=moto_url)
    playground.command(OPERATOR.id, "C0TRIVIA", "/skill status")

The page (``static/``) reads ``GET /playground/state?since=REV`` (long polling: the answer
comes as soon as anything changed) and posts its actions to ``/playground/…``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.adapters.lambda_aws import LIVE_ALIAS_TAG
from bot.demo import seed
from bot.demo.web import PlaygroundWeb
from bot.devkit.aws import lambda_client
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.fake_smapi import FakeSmapi

log = logging.getLogger(__name__)


class Playground(PlaygroundWeb):
    def __init__(
        self,
        slack: FakeSlack,
        *,
        bot_url: str,
        signing_secret: str,
        aws_endpoint: str,
        smapi: FakeSmapi | None = None,
    ) -> None:
        self.slack = slack
        self.bot_url = bot_url.rstrip("/")
        self.signing_secret = signing_secret
        self.aws_endpoint = aws_endpoint
        self.smapi = smapi
        super().__init__()
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
