"""The baseline of the ack benchmark: a bare Bolt app whose ``/skill`` listener only acks.

It is served exactly like the bot in HTTP mode (``bot.http.wsgi_app`` and ``bot.http.serve``:
waitress, same threads, backlog and connection limit), so the difference between the two
is what the bot does before its ack::

    PORT=3001 SLACK_SIGNING_SECRET=… SLACK_API_URL=http://127.0.0.1:… python -m bench.bare_app
"""

from __future__ import annotations

import os
import threading

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.http import serve, wsgi_app


def build_bare_app(signing_secret: str, token: str, api_url: str) -> App:
    app = App(
        client=WebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        token_verification_enabled=False,
    )

    @app.command("/skill")
    def only_ack(ack: Ack) -> None:
        ack()

    return app


def main() -> None:
    app = build_bare_app(
        os.environ["SLACK_SIGNING_SECRET"],
        os.environ["SLACK_BOT_TOKEN"],
        os.environ["SLACK_API_URL"],
    )
    ready = threading.Event()
    secret = os.environ["SLACK_SIGNING_SECRET"]
    server = serve(wsgi_app(app, ready, signing_secret=secret), int(os.environ["PORT"]))
    ready.set()
    server.run()


if __name__ == "__main__":
    main()
