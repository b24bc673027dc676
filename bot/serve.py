"""The bot's process: start a role (all, web or scheduler), serve until a signal stops it.

``skillbot run ROLE`` and ``python -m bot ROLE`` call :func:`start`; it is the one place in
``bot/`` that knows the Slack listeners (``handlers/``).
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from bot.cli.exit_codes import EXIT_INTERRUPTED
from bot.config import Settings, SkillsFile, load_for_start
from bot.domain.errors import ConfigError, SkillbotError

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.adapters.startup_checks import AwsIdentity, SlackIdentity, StartRetries
    from bot.bootstrap import Composed, Runtime

log = logging.getLogger("skillbot")

#: libraries whose INFO lines say nothing an operator acts on (migrations, job runs)
CHATTY = ("alembic", "apscheduler")


def start(role: str) -> int:
    """Start ``role`` (all, web or scheduler) and serve until a signal stops it."""
    started = time.monotonic()
    from bot.adapters.startup_checks import StartupFailure, aws_problems, connections_line

    try:
        # the AWS region and credentials the chain lacks are named with everything else
        settings, config = load_for_start(role, aws_problems=aws_problems)
    except ConfigError as err:
        return cannot_start(err.message, err.hint, 2)
    except KeyboardInterrupt:
        return start_interrupted()
    configure_logging(settings.log_level)

    try:
        slack, aws, (cases, runtime) = build_checked(settings, config)
    except StartupFailure as err:
        return cannot_start(err.message, err.hint, err.exit_code)
    except SkillbotError as err:  # the database: its settings (2), or it did not answer (3)
        return cannot_start(err.message, err.hint, 2 if isinstance(err, ConfigError) else 3)
    except KeyboardInterrupt:  # Ctrl-C while Slack or AWS is tried again
        return start_interrupted()
    log.info(connections_line(settings, role, slack, aws, runtime.aws_endpoint))

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: shutting down", signum)
        stop.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if role in ("all", "scheduler"):
            from bot.bootstrap import start_scheduler

            # reminders, crash recovery (at once, then every minute), Alexa's status
            start_scheduler(runtime)
        else:
            # a web replica without a scheduler still repairs what a crash left, once
            threading.Thread(target=recover_once, args=(runtime,), daemon=True).start()
        if role == "scheduler":
            log.info("scheduler ready in %.2f s", time.monotonic() - started)
            check_functions(runtime, aws)
            stop.wait()
            return 0
        # the entry point is the one place in bot/ that knows the listeners (handlers/)
        from handlers import build_app

        app = build_app(cases, runtime)
        return serve_slack(app, runtime, started, lambda: check_functions(runtime, aws))
    except ConfigError as err:
        return cannot_start(err.message, err.hint, 2)
    except SystemExit:
        return 0
    finally:
        runtime.close()


def cannot_start(message: str, hint: str, code: int) -> int:
    print(f"skillbot cannot start: {message}\n{hint}".rstrip(), file=sys.stderr)
    return code


def start_interrupted() -> int:
    """Ctrl-C before the bot was ready (its signal handlers are not installed yet): one
    line, and the shell's code for a command stopped by SIGINT."""
    print("skillbot: the start was interrupted (Ctrl-C) before the bot was ready.", file=sys.stderr)
    return EXIT_INTERRUPTED


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)


def build_checked(
    settings: Settings, config: SkillsFile, retries: StartRetries | None = None
) -> tuple[SlackIdentity, AwsIdentity, Composed]:
    """Slack's auth.test and AWS's GetCallerIdentity, side by side with building the
    services (which need neither), each tried again by ``retries`` while its service is
    briefly unavailable; once one has failed for good the other stops waiting, and both
    failures are told together (exit 2 if either is a configuration problem)."""
    from bot.adapters.startup_checks import StartRetries, StartupFailure, check_aws, check_slack
    from bot.bootstrap import build_services

    retries = retries or StartRetries()

    def failed_for_good(check: Future[Any]) -> None:
        if check.exception() is not None:
            retries.stop()

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="skillbot-start") as pool:
        composed: Composed | None = None
        # from the first submit on: a Ctrl-C while the checks are handed out stops the
        # retries too, or leaving this block would wait them out
        try:
            token, api_url = settings.slack_bot_token, settings.slack_api_url
            with ctrl_c_for_the_main_thread():
                slack = pool.submit(check_slack, token, api_url, retries)
                aws = pool.submit(check_aws, settings.aws_region, retries)
            checks: list[Future[Any]] = [slack, aws]
            for check in checks:
                check.add_done_callback(failed_for_good)
            composed = build_services(
                settings, config, aws_account=lambda: aws.result().account if aws.done() else None
            )
            wait(checks)
        except BaseException:  # Ctrl-C while a check waits to try again: it waits no more
            retries.stop()
            if composed is not None:
                composed.close()
            raise
    failures = [e for e in (slack.exception(), aws.exception()) if e is not None]
    if not failures:
        return slack.result(), aws.result(), composed
    composed.close()
    told = [f for f in failures if isinstance(f, StartupFailure)]
    if len(told) < len(failures):
        slack.result(), aws.result()  # re-raises what no check foresaw
    if len(told) == 1:
        raise told[0]
    listed = "\n".join(f"  - {f.message} {f.hint}" for f in told)
    raise StartupFailure(f"{len(told)} problems:\n{listed}", "", min(f.exit_code for f in told))


@contextmanager
def ctrl_c_for_the_main_thread() -> Iterator[None]:
    """Threads started inside never take SIGINT (they inherit it blocked): Ctrl-C always
    wakes the main thread, the one that raises KeyboardInterrupt, even while it waits for
    them; and it cannot cut a thread's start in half, which would leave a thread the pool
    does not wait for. A Ctrl-C meanwhile is raised on leaving."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def check_functions(runtime: Runtime, aws: AwsIdentity) -> None:
    """After ready: every configured function is looked up, in the background."""
    from bot.adapters.startup_checks import FunctionCheck

    check = FunctionCheck(runtime.lambda_, runtime.skills.values(), aws).start()
    runtime.closers.append(check.stop)


def recover_once(runtime: Runtime) -> None:
    try:
        runtime.recovery.run()
    except Exception:
        log.exception("crash recovery failed; the scheduler process runs it again")


def settle_memory() -> None:
    """Move everything built at start out of the garbage collector's sight.

    The bot holds a large, long-lived heap (boto3's service models, SQLAlchemy, Bolt);
    each full collection walked all of it — 139 ms in one ack benchmark, stopping every
    thread while 50 commands waited for their ack. After ``gc.freeze()`` a full
    collection sees only what was allocated since: a few milliseconds. Freezing costs
    nothing at start (no collection first: what start-up left unreachable is a few
    objects, and the resident memory measured the same)."""
    gc.freeze()


def serve_slack(app: App, runtime: Runtime, started: float, after_ready: Callable[[], None]) -> int:
    settings = runtime.settings
    settle_memory()
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, settings.slack_app_token)
        log.info("ready (Socket Mode) in %.2f s", time.monotonic() - started)
        after_ready()
        handler.start()
        return 0
    from bot.http import serve, wsgi_app

    ready = threading.Event()
    server = serve(
        wsgi_app(
            app,
            ready,
            runtime.store.healthy,
            signing_secret=settings.slack_signing_secret or "",
        ),
        settings.port,
    )
    ready.set()
    log.info("ready (HTTP on port %s) in %.2f s", settings.port, time.monotonic() - started)
    after_ready()
    server.run()
    return 0
