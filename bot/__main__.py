"""Start skillbot: ``python -m bot [all|web|scheduler]``.

- ``all`` (default): Slack listener and reminder scheduler in one process;
- ``web``: only the Slack listener (several replicas behind a load balancer);
- ``scheduler``: only the scheduler (one process beside ``web`` replicas);
- ``demo``: the real bot against an embedded AWS and a Slack-like page (``demo --help``).

The Slack listener uses Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP on ``PORT``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

from bot.config import load_settings, load_skills_file
from bot.domain.errors import ConfigError

if TYPE_CHECKING:
    from bot.bootstrap import Services

log = logging.getLogger("skillbot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    parser.add_argument(
        "role", nargs="?", default="all", choices=["all", "web", "scheduler", "demo"]
    )
    parser.add_argument("demo_options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "demo":
        from bot.demo import main as demo

        return demo(args.demo_options)
    if args.demo_options:
        parser.error(f"unrecognized arguments: {' '.join(args.demo_options)}")
    started = time.monotonic()
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        config = load_skills_file(settings.skillbot_config)
        if args.role != "scheduler":
            settings.require_slack()
        from bot.bootstrap import build_services

        services = build_services(settings, config)
    except ConfigError as err:
        print(f"skillbot cannot start: {err.message}\n{err.hint}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: shutting down", signum)
        stop.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if args.role in ("all", "scheduler"):
            from bot.bootstrap import start_scheduler

            # reminders, crash recovery (at once, then every minute), Alexa's status
            start_scheduler(services)
        else:
            # a web replica without a scheduler still repairs what a crash left, once
            threading.Thread(target=recover_once, args=(services,), daemon=True).start()
        if args.role == "scheduler":
            log.info("scheduler ready in %.2f s", time.monotonic() - started)
            stop.wait()
            return 0
        return serve_slack(services, started)
    except ConfigError as err:
        print(f"skillbot cannot start: {err.message}\n{err.hint}", file=sys.stderr)
        return 2
    except SystemExit:
        return 0
    finally:
        services.close()


def recover_once(services: Services) -> None:
    try:
        services.recovery.run()
    except Exception:
        log.exception("crash recovery failed; the scheduler process runs it again")


def serve_slack(services: Services, started: float) -> int:
    # the entry point is the one place in bot/ that knows the listeners (handlers/)
    from handlers import build_app

    app = build_app(services)
    settings = services.settings
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, settings.slack_app_token)
        log.info("ready (Socket Mode) in %.2f s", time.monotonic() - started)
        handler.start()
        return 0
    from bot.http import serve, wsgi_app

    ready = threading.Event()
    server = serve(wsgi_app(app, ready, services.store.healthy), settings.port)
    ready.set()
    log.info("ready (HTTP on port %s) in %.2f s", settings.port, time.monotonic() - started)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
