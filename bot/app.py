"""Build the Bolt app over the services; no I/O at import time::

app = build_app(services)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App

import handlers
from bot.wiring import Services


def build_app(services: Services, *, lazy_workers: int = 16) -> App:
    """A Bolt app with every listener registered; HTTP mode verifies Slack's signature."""
    settings = services.settings
    executor = ThreadPoolExecutor(max_workers=lazy_workers, thread_name_prefix="skillbot-lazy")
    # at shutdown, let work already acknowledged to Slack finish
    services.closers.append(lambda: executor.shutdown(wait=True))
    app = App(
        client=services.web_client,
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode connections are authenticated by the app token, not signatures
        request_verification_enabled=not settings.socket_mode,
        # the ack (parsing only) answers in the request's own thread; the slow work goes
        # to the lazy pool, so a busy pool never delays an acknowledgement
        process_before_response=True,
        listener_executor=executor,
    )
    handlers.register(app, services)
    return app
