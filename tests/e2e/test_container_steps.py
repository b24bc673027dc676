"""The Dockerfile's own steps, without Docker: install the build context with the
Dockerfile's ``RUN pip install`` into a fresh virtual environment, start its ``CMD`` as an
unprivileged user with ``PORT`` set, wait for ``/healthz``, probe it with the image's
``HEALTHCHECK`` command, stop it with SIGTERM (what ``docker stop`` sends) and expect 0.

What Docker itself adds (the base image's Python, the image's user, the layers) is not
exercised here: no Docker daemon runs on the machines that run these tests.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from tests.support.process import http_status
from tests.support.shipping import (
    ROOT,
    build_context,
    copies,
    dockerfile,
    exec_form,
    healthcheck,
    only,
    pip_install_steps,
    wheelhouse,
)
from tests.support.skills import skills_toml
from tests.support.slack_world import SECRET, TOKEN

READY_WITHIN = 60.0


@dataclass(frozen=True)
class RunAs:
    """How the bot is started as a user other than the test's, and which uid it gets."""

    prefix: list[str]
    uid: int
    how: str


def unprivileged() -> RunAs:
    me = os.geteuid()
    if me == 0:
        nobody = pwd.getpwnam("nobody").pw_uid
        if shutil.which("setpriv"):
            args = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]
            if subprocess.run(["setpriv", *args, "true"], check=False).returncode == 0:
                return RunAs(["setpriv", *args, "--"], nobody, "as nobody (setpriv)")
        if (
            shutil.which("runuser")
            and subprocess.run(["runuser", "-u", "nobody", "--", "true"], check=False).returncode
            == 0
        ):
            return RunAs(["runuser", "-u", "nobody", "--"], nobody, "as nobody (runuser)")
    return RunAs([], me, f"as the test's own user (uid {me}): setpriv and runuser need root")


@pytest.fixture
def image_root() -> Iterator[Path]:
    """What the image's file system holds, in a directory the unprivileged user can read
    (pytest's tmp_path lives under a directory only its owner may enter)."""
    root = Path(tempfile.mkdtemp(prefix="skillbot-image-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def install_as_the_dockerfile_does(root: Path) -> Path:
    """The Dockerfile's COPY and pip steps in their order, into a fresh venv; its bin dir."""
    src = root / "src"
    src.mkdir()
    context = build_context()
    steps = dockerfile(ROOT / "Dockerfile")
    venv = root / "venv"
    # the image's pip is its base image's: this test's pip installs into the new venv
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # what the index would give, from wheels made once (see wheelhouse)
    local = ["--no-index", "--find-links", str(wheelhouse())]
    installs = iter(pip_install_steps(steps))
    for step in steps:
        if step.instruction == "COPY":
            [(sources, _)] = copies([step])
            for source in sources:  # only what the build context holds reaches the image
                for name in (n for n in context if n == source or n.startswith(source + "/")):
                    (src / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / name, src / name)
        elif step.instruction == "RUN" and step.arguments.startswith("pip install"):
            install = next(installs)
            done = subprocess.run(
                [sys.executable, "-m", "pip", "--python", str(python), *install, *local, "-q"],
                cwd=src,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


def test_the_image_steps_install_start_answer_healthz_and_stop_cleanly(image_root, moto_endpoint):
    steps = dockerfile(ROOT / "Dockerfile")
    command = exec_form(only(steps, "CMD"))
    _, probe = healthcheck(steps)
    run_as = unprivileged()

    bin_dir = install_as_the_dockerfile_does(image_root)
    assert (bin_dir / command[0]).exists(), f"the install put no {command[0]} on PATH"

    workdir = image_root / "workdir"  # the image's WORKDIR, owned by its user
    workdir.mkdir()
    skills = skills_toml(workdir / "skillbot.toml")
    os.chown(workdir, run_as.uid, -1)
    os.chown(skills, run_as.uid, -1)
    port = free_port()
    with FakeSlack() as slack:
        env = {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir),
            "PORT": str(port),
            "SKILLBOT_CONFIG": str(skills),
            "DATABASE_URL": f"sqlite:///{workdir / 'skillbot.db'}",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": moto_endpoint,  # nothing may reach a real account
        }
        log_path = image_root / "bot.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [*run_as.prefix, *command],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}/healthz"
        try:
            deadline = time.monotonic() + READY_WITHIN
            status = http_status(url)
            while status != 200 and time.monotonic() < deadline:
                try:
                    process.wait(timeout=0.2)  # returns at once if the bot exits
                except subprocess.TimeoutExpired:
                    status = http_status(url)
                    continue
                break
            where = f"started {run_as.how}; log:\n{log_path.read_text()}"
            assert status == 200, f"/healthz answered {status} within {READY_WITHIN}s, {where}"

            checked = subprocess.run(
                [str(bin_dir / probe[0]), *probe[1:]], env=env, capture_output=True, timeout=30
            )
            assert checked.returncode == 0, f"HEALTHCHECK failed: {checked.stderr!r}, {where}"
            assert run_as.uid in uids_of_tree(process.pid), where
            assert (workdir / "skillbot.db").stat().st_uid == run_as.uid, where
            assert slack.calls_to("auth.test"), "the installed bot never reached Slack"
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        assert code == 0, f"exit {code} after SIGTERM, started {run_as.how}; log:\n" + (
            log_path.read_text()
        )
        after = subprocess.run([str(bin_dir / probe[0]), *probe[1:]], env=env, timeout=30)
        assert after.returncode != 0, "the health check passes with the bot stopped"


def uids_of_tree(pid: int) -> set[int]:
    """The real uids of a process and its descendants (runuser forks; setpriv execs)."""
    uids = set()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            uids.add(int(line.split()[1]))
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        uids |= uids_of_tree(int(child))
    return uids
