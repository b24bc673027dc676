"""Team controls through the real processes: a promotion set for a time that passed
while the bot was down runs once when the scheduler starts again (the lock from the
command line is in test_cli_pipeline)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.store import open_store
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.domain.model import ScheduledPromotion
from tests.support.aws import LIVE_TAG
from tests.support.cli import cli_env, skillbot, write_skills
from tests.support.process import start_bot
from tests.support.skills import CHANNEL
from tests.support.users import APPROVER, OPERATOR

FN = "trivia-skill"


def test_a_promotion_due_while_the_bot_was_down_runs_once_at_its_start(
    moto_endpoint: str, tmp_path: Path
) -> None:
    client = create_skill_function(FN, moto_endpoint)
    deploy(client, FN, "VERSION = 3\n")
    write_skills(tmp_path)
    with FakeSlack() as fake:
        env = cli_env(fake, moto_endpoint, tmp_path, SKILLBOT_ACTOR=OPERATOR)
        for args in (("migrate",), ("certify", "--yes")):
            done = skillbot(*args, env=env, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        store = open_store(env["DATABASE_URL"])
        cert = store.pending_certification("trivia")
        assert cert is not None
        # set for a minute ago: the bot was down at that time
        at = datetime.now(UTC) - timedelta(minutes=1)
        store.schedule_promotion(ScheduledPromotion(cert.id, "trivia", at, APPROVER, "launch"))
        store.close()

        scheduler = start_bot(env, "scheduler", cwd=tmp_path, log=tmp_path / "bot.log", ready=None)
        try:
            promoted = fake.wait_for(
                lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]] or None,
                timeout=30,
            )
        finally:
            scheduler.stop()
    assert len(promoted) == 1 and "by <@U0CAROL>" in promoted[0]["text"], promoted
    tags = client.list_tags(
        Resource=client.get_function(FunctionName=FN)["Configuration"]["FunctionArn"]
    )
    assert tags["Tags"][LIVE_TAG] == "PROD2"
    again = open_store(f"sqlite:///{tmp_path / 'skillbot.db'}")
    try:
        assert again.scheduled_promotion(cert.id) is None  # done: never run twice
    finally:
        again.close()


def _bot(moto_endpoint: str, tmp_path: Path, fake: FakeSlack, **overrides: object):
    from bot.devkit.json_server import free_port
    from tests.support.e2e import Bot
    from tests.support.process import bot_env
    from tests.support.skills import skills_config, write_skills_file

    config = write_skills_file(tmp_path / "skillbot.toml", skills_config(**overrides))
    port = free_port()
    env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=port, config=config)
    return Bot(f"http://127.0.0.1:{port}", fake, start_bot(env, cwd=tmp_path))


def test_inside_a_freeze_window_the_real_bot_refuses_a_hotfix(moto_endpoint, tmp_path) -> None:
    client = create_skill_function(FN, moto_endpoint)
    deploy(client, FN, "VERSION = 3\n")
    today = datetime.now(UTC).date()
    window = f"{today} - {today + timedelta(days=1)}"
    with FakeSlack() as fake:
        bot = _bot(moto_endpoint, tmp_path, fake, freeze=[window])
        try:
            refused = bot.command("hotfix -- crash fix")
            status = bot.command("status")
        finally:
            bot.process.kill()
    assert (
        f"trivia is frozen: the window `{window}` of the skills file lasts until"
        in (refused["text"])
    ), refused
    assert "frozen until" in status["text"]
    assert [
        v["Version"] for v in client.list_versions_by_function(FunctionName=FN)["Versions"]
    ] == [
        "$LATEST",
        "1",
        "2",
    ]  # nothing published


def test_two_approvers_reactions_promote_through_the_real_bot(moto_endpoint, tmp_path) -> None:
    from bot.adapters.slack import kit
    from tests.support.messages import button_value

    client = create_skill_function(FN, moto_endpoint)
    deploy(client, FN, "VERSION = 3\n")
    with FakeSlack() as fake:
        bot = _bot(moto_endpoint, tmp_path, fake, approvers=[APPROVER, "U0DAVE"], approvals=2)
        try:
            plan = bot.command("certify -- launch")
            bot.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
            [message] = fake.wait_for(
                lambda f: [m for m in f.messages(CHANNEL) if "certify" in m["text"]] or None
            )
            bot.react(APPROVER, message["ts"])
            fake.wait_for(
                lambda f: (
                    [r for r in f.thread_replies(CHANNEL, message["ts"]) if "(1 of 2)" in r["text"]]
                    or None
                )
            )
            assert not [m for m in fake.messages(CHANNEL) if "promoted" in m["text"]]
            bot.react("U0DAVE", message["ts"])
            promoted = fake.wait_for(
                lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]] or None
            )
        finally:
            bot.process.kill()
    assert len(promoted) == 1 and "by <@U0DAVE>" in promoted[0]["text"]


def test_an_approver_overrides_a_lock_from_the_command_line(moto_endpoint, tmp_path) -> None:
    from tests.support.aws import alias_version

    client = create_skill_function(FN, moto_endpoint)
    deploy(client, FN, "VERSION = 3\n")
    write_skills(tmp_path, operators=[OPERATOR, APPROVER])  # Carol operates and approves
    with FakeSlack() as fake:

        def run(*args: str, actor: str):
            return skillbot(
                *args,
                env=cli_env(fake, moto_endpoint, tmp_path, SKILLBOT_ACTOR=actor),
                cwd=tmp_path,
            )

        assert run("migrate", actor=OPERATOR).returncode == 0
        assert run("lock", "--reason", "incident 42", actor=OPERATOR).returncode == 0
        refused = run("hotfix", "--yes", actor=APPROVER)
        assert (
            refused.returncode == 1
            and "trivia is locked by U0ALICE" in refused.stderr + refused.stdout
        )
        without_reason = run("hotfix", "--yes", "--override", actor=APPROVER)
        assert (
            without_reason.returncode == 1
            and "needs a reason" in without_reason.stdout + without_reason.stderr
        )
        applied = run("hotfix", "--yes", "--override", "--reason", "outage fix", actor=APPROVER)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        announced = [m["text"] for m in fake.messages(CHANNEL)]
    assert alias_version(client, FN, "PROD1") == "3"
    assert any("with --override by <@U0CAROL>" in text for text in announced), announced


def test_a_pipeline_records_its_commit_and_the_next_deploy_names_both(
    moto_endpoint, tmp_path
) -> None:
    import json

    from tests.support.cli import GITHUB_RUN, PIPELINE

    client = create_skill_function(FN, moto_endpoint)
    write_skills(tmp_path, pipelines=[PIPELINE])
    old, new = "abc1234" + "0" * 33, "def5678" + "1" * 33
    with FakeSlack() as fake:
        env = cli_env(fake, moto_endpoint, tmp_path, **GITHUB_RUN)
        assert skillbot("migrate", env=env, cwd=tmp_path).returncode == 0
        for code, commit in (("VERSION = 3\n", old), ("VERSION = 4\n", new)):
            deploy(client, FN, code)
            done = skillbot("hotfix", "--yes", "--json", "--commit", commit, env=env, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        announced = fake.messages(CHANNEL)[-1]["text"]
    assert result["plan"]["commits"] == {
        "from": old,
        "to": new,
        "repo": "acme/trivia",  # the GitHub pipeline's own repository
        "compare_url": f"https://github.com/acme/trivia/compare/{old}...{new}",
    }
    assert "(commits abc1234 → def5678)" in announced
