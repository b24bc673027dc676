"""``python -m bot demo``: the real bot, an embedded AWS and a Slack-like page, no accounts.

One process group runs:

- the real bot (``python -m bot``: HTTP mode, scheduler on) as a child process, with an
  explicit environment and its working directory in the data directory;
- moto's server in this process, seeded with the demo skill's function (:mod:`.seed`);
- the playground (:mod:`.playground`): the fake Slack Web API the bot posts to, and the
  page where people type ``/skill …``, click buttons and react;
- with ``--alexa``, the fake SMAPI, so a certification review can pass or fail.

Example::

    python -m bot demo --port 3000 --data ./demo-data --reminder-schedule 10s
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

import bot
from bot.demo import seed

if TYPE_CHECKING:
    from bot.demo.playground import Playground

READY_LINE = "ready (HTTP"
#: the bot's settings the command line needs too (and, with --alexa, the fake SMAPI's)
CLI_SETTINGS = (
    "SKILLBOT_CONFIG",
    "DATABASE_URL",
    "SLACK_API_URL",
    "SLACK_BOT_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
)
START_TIMEOUT = 60.0
#: seconds between the demo's customers' figures (a change's new version shows at once)
TRAFFIC_EVERY = 2.0
_PR_SET_PDEATHSIG = 1

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Start everything, print the page's URL, and run until SIGINT or SIGTERM."""
    args = _parser().parse_args(argv)
    started = time.monotonic()
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with contextlib.ExitStack() as stack:
        data = _data_dir(args.data, stack)
        try:
            up = _start(args, data, stack, stop)
        except DemoError as err:
            print(f"skillbot demo cannot start: {err}", file=sys.stderr)
            return 1
        if up is None:  # stopped while starting
            return 0
        url, cli_env = up
        elapsed = time.monotonic() - started
        print(f"skillbot demo: {url}  (ready in {elapsed:.1f} s; Ctrl-C stops it)", flush=True)
        print(command_line_help(cli_env), flush=True)
        stop.wait()
    return 0


def command_line_help(cli_env: dict[str, str]) -> str:
    """How to drive this demo with the ``skillbot`` command from another shell: the
    lines to paste, which set what the command line reads, and a first command.

    >>> print(command_line_help({"SKILLBOT_CONFIG": "/tmp/a b.toml"}))  # doctest: +ELLIPSIS
    The command line works on this demo too: paste these lines into another shell,
      unset AWS_PROFILE
      export SKILLBOT_CONFIG='/tmp/a b.toml'
    then run ...skillbot status (or hotfix, certify, history, doctor; as Olivia, an operator).
    """
    lines = [
        "The command line works on this demo too: paste these lines into another shell,",
        "  unset AWS_PROFILE",  # the demo's credentials, not a profile's
        *(f"  export {name}={shlex.quote(value)}" for name, value in cli_env.items()),
        f"then run {_skillbot()} status (or hotfix, certify, history, doctor; as "
        f"{seed.OPERATOR.name}, an {seed.OPERATOR.role}).",
    ]
    return "\n".join(lines)


def _skillbot() -> str:
    """The ``skillbot`` command as another shell finds it: by name when it is on the
    PATH, else this installation's script (``make demo`` does not activate ``.venv``)."""
    script = Path(sys.executable).with_name("skillbot")
    on_path = shutil.which("skillbot")
    if not script.exists() or (on_path and Path(on_path).resolve() == script.resolve()):
        return "skillbot"
    return str(script)


class DemoError(Exception):
    """Something the person starting the demo can fix (a busy port, a bot that failed)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skillbot demo",
        description="The real bot against an embedded AWS, driven from a Slack-like page.",
    )
    parser.add_argument("--port", type=int, default=3000, help="the page's port (3000)")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the database, skills file and bot log in DIR (default: a temporary one); "
        "the embedded AWS and the page start afresh each time",
        metavar="DIR",
    )
    parser.add_argument(
        "--reminder-schedule",
        default="30s",
        help="how often pending certifications are reminded (30s; a duration or cron)",
    )
    parser.add_argument(
        "--approvals",
        type=int,
        choices=(1, 2),
        default=1,
        help="how many approvers must react to promote (2: Bea approves beside Arjun)",
    )
    parser.add_argument(
        "--freeze-now",
        action="store_true",
        help="a freeze window of today and tomorrow: every change is refused (an approver's "
        "--override goes past it)",
    )
    parser.add_argument(
        "--alexa",
        action="store_true",
        help="also run the fake Alexa SMAPI: certification reviews pass or fail from the page",
    )
    return parser


def _data_dir(wanted: Path | None, stack: contextlib.ExitStack) -> Path:
    if wanted is not None:
        wanted.mkdir(parents=True, exist_ok=True)
        return wanted.resolve()
    made = Path(tempfile.mkdtemp(prefix="skillbot-demo-"))
    stack.callback(shutil.rmtree, made, ignore_errors=True)
    return made


def _start(
    args: argparse.Namespace, data: Path, stack: contextlib.ExitStack, stop: threading.Event
) -> tuple[str, dict[str, str]] | None:
    """Start everything; the page's URL and the command line's environment for this demo
    (None when stopped while starting)."""
    from moto.server import ThreadedMotoServer

    from bot.demo.playground import Playground
    from bot.devkit.fake_slack import FakeSlack
    from bot.devkit.fake_smapi import FakeSmapi
    from bot.devkit.json_server import free_port

    # the demo's own boto3 clients (seeding, the page's AWS view, deploys) use these too
    aws_env = {
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_REGION": seed.REGION,
        "AWS_DEFAULT_REGION": seed.REGION,
        "AWS_CONFIG_FILE": str(data / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(data / "no-aws-credentials"),
    }
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(aws_env)

    try:
        slack = FakeSlack(
            args.port,
            users={p.id: p.name for p in seed.people(args.approvals)},
            channels=seed.CHANNELS,
            ts_epoch=int(time.time()),
        )
    except OSError as err:
        raise DemoError(f"port {args.port} is not free ({err}); try --port 3100") from None
    stack.callback(slack.close)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs each request
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    stack.callback(moto.stop)
    aws_endpoint = f"http://127.0.0.1:{moto_port}"
    seed.keep_skill_id_verification()
    seed.seed_aws(aws_endpoint)

    smapi = None
    if args.alexa:
        smapi = stack.enter_context(FakeSmapi())
        smapi.add_skill(seed.ALEXA_SKILL_ID)

    secret = secrets.token_hex(16)
    bot_port = free_port()
    playground = Playground(
        slack,
        bot_url=f"http://127.0.0.1:{bot_port}",
        signing_secret=secret,
        aws_endpoint=aws_endpoint,
        smapi=smapi,
        people=seed.people(args.approvals),
    )
    stack.callback(playground.close)

    skills_file = seed.write_skills_file(
        data / "skillbot.toml",
        reminder_schedule=args.reminder_schedule,
        approvals=args.approvals,
        freeze_from=datetime.now(UTC).date() if args.freeze_now else None,
    )
    env = {
        **_base_env(),
        **aws_env,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "SLACK_BOT_TOKEN": "xoxb-demo-token",
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(bot_port),
        "DATABASE_URL": f"sqlite:///{data / 'skillbot.db'}",
        "SKILLBOT_CONFIG": str(skills_file),
        **(smapi.env() if smapi is not None else {}),
    }
    child = BotChild(env, cwd=data, log_path=data / "bot.log", on_line=_forward(playground))
    stack.callback(child.stop)
    child.start()
    if not child.wait_ready(START_TIMEOUT, stop):
        if stop.is_set():
            return None
        raise DemoError(f"the bot did not become ready; its log:\n{child.tail()}")
    threading.Thread(target=_stop_when_exits, args=(child, stop), daemon=True).start()
    quiet = threading.Event()  # set first at the end: the traffic stops before AWS does
    traffic = threading.Thread(target=_traffic, args=(aws_endpoint, quiet), daemon=True)
    traffic.start()
    stack.callback(traffic.join, 10)
    stack.callback(quiet.set)
    playground.note("info", f"skillbot is up (its log: {data / 'bot.log'})")
    # what skillbot status and the rotation commands read to work on this demo
    cli_env = {name: env[name] for name in CLI_SETTINGS}
    cli_env.update(smapi.env() if smapi is not None else {}, SKILLBOT_ACTOR=seed.OPERATOR.id)
    return f"http://127.0.0.1:{args.port}", cli_env


def _traffic(aws_endpoint: str, quiet: threading.Event) -> None:
    """The demo's customers: CloudWatch figures of the hour before, then every 2 s, for
    the health charts, until ``quiet``."""
    now = datetime.now(UTC)
    history = [now - timedelta(minutes=minutes) for minutes in range(60, 0, -1)]
    while not quiet.is_set():
        try:
            seed.publish_traffic(aws_endpoint, history)
        except Exception as err:  # the embedded AWS stopping with the demo
            log.debug("demo traffic: %s", err)
        history = []
        quiet.wait(TRAFFIC_EVERY)


def _base_env() -> dict[str, str]:
    """What a Python child needs from this environment, and nothing of its configuration."""
    package_root = str(Path(bot.__file__).resolve().parents[1])
    env = {"PYTHONPATH": package_root, "PYTHONUNBUFFERED": "1"}
    for name in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _forward(playground: Playground) -> Callable[[str], None]:
    """Warnings and errors of the bot's log also go to the page's log pane."""

    def on_line(line: str) -> None:
        if " WARNING " in line or " ERROR " in line or "Traceback" in line:
            playground.note("bot", line)

    return on_line


def _stop_when_exits(child: BotChild, stop: threading.Event) -> None:
    code = child.wait()
    if not stop.is_set():
        print(f"skillbot exited ({code}); stopping the demo. Its log:\n{child.tail()}", flush=True)
        stop.set()


class BotChild:
    """``python -m bot`` with an explicit environment; its output goes to ``log_path``.

    It stays in this process group (Ctrl-C in a terminal reaches it too) and, on Linux,
    gets SIGTERM when this process dies without stopping it.
    """

    def __init__(
        self,
        env: dict[str, str],
        *,
        cwd: Path,
        log_path: Path,
        on_line: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.env, self.cwd, self.log_path, self.on_line = env, cwd, log_path, on_line
        self.proc: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._exited = threading.Event()
        self._tail: list[str] = []

    def start(self) -> BotChild:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        log_file = self.log_path.open("a", encoding="utf-8")
        threading.Thread(target=self._read, args=(log_file,), daemon=True).start()
        return self

    def _read(self, log_file: IO[str]) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with log_file:
            for text in self.proc.stdout:
                line = text.rstrip("\n")
                log_file.write(line + "\n")
                log_file.flush()
                self._tail = [*self._tail[-39:], line]
                if READY_LINE in line:
                    self._ready.set()
                self.on_line(line)
        self._exited.set()

    def wait_ready(self, timeout: float, stop: threading.Event) -> bool:
        """True once the bot logged that it serves HTTP; False if it exited or ``stop``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop.is_set():
            if self._ready.wait(0.1):
                return True
            if self._exited.is_set():
                return False
        return self._ready.is_set()

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()

    def tail(self) -> str:
        return "\n".join(self._tail)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (the bot shuts down cleanly), SIGKILL if it has not after ``timeout``."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the demo process dies (Linux prctl)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
