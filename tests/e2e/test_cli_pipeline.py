"""``skillbot hotfix|apply|status|…`` as a terminal or a CD pipeline runs them: the
installed entry point in a subprocess, against moto_server and the fake Slack, on the
database the bot uses. What is asserted is what a person would check: the aliases in
AWS, the messages in Slack, stdout and the exit code.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import kit
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.slack_requests import block_action_body
from tests.support import aws as aws_state
from tests.support.aws import alias_version, create_regional_functions
from tests.support.cli import (
    GITHUB_RUN,
    PIPELINE,
    RUN_URL,
    cli_env,
    skillbot,
    skillbot_into_closed_pipe,
    start_skillbot,
    write_skills,
)
from tests.support.e2e import Bot
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.users import OPERATOR, STRANGER

FN = "trivia-skill"


@dataclass
class Stage:
    """moto_server with the trivia function (PROD1 → v1 live, PROD2 → v2, new code on
    $LATEST), the fake Slack, and the bot's database and skills file in ``tmp``."""

    client: Any
    fake: FakeSlack
    endpoint: str
    tmp: Path

    def env(self, **extra: str) -> dict[str, str]:
        return cli_env(self.fake, self.endpoint, self.tmp, **extra)

    def run(self, *args: str, **extra: str) -> Any:
        return skillbot(*args, env=self.env(**extra), cwd=self.tmp)

    def live(self) -> str:
        return alias_version(self.client, FN, "PROD1")

    def versions(self) -> list[str]:
        return [v for v in aws_state.versions(self.client) if v != "$LATEST"]


@pytest.fixture
def stage(moto_endpoint, tmp_path) -> Iterator[Stage]:
    client = create_skill_function(FN, moto_endpoint)
    deploy(client, FN, "VERSION = 3\n")
    write_skills(tmp_path, pipelines=[PIPELINE])
    with FakeSlack() as fake:
        stage = Stage(client, fake, moto_endpoint, tmp_path)
        migrated = stage.run("migrate")
        assert migrated.returncode == 0, migrated.stderr
        yield stage


def parsed(result: Any) -> dict[str, Any]:
    """The one JSON object on stdout."""
    return json.loads(result.stdout)


def test_a_plan_without_yes_changes_nothing(stage):
    result = stage.run("hotfix", "--reason", "crash on launch", SKILLBOT_ACTOR=OPERATOR)

    assert result.returncode == 0, result.stderr
    assert "Plan: hotfix trivia: PROD1 v1 → a new version from $LATEST" in result.stdout
    assert "asked by      U0ALICE" in result.stdout
    assert "Nothing changed. Apply exactly this plan with skillbot apply " in result.stdout
    assert stage.live() == "1"
    assert stage.versions() == ["1", "2"], "a plan publishes nothing"
    assert stage.fake.messages() == []


def test_yes_applies_once_and_announces_the_pipeline_with_its_run(stage):
    result = stage.run(
        "hotfix", "--yes", "--json", "--reason", "crash <!channel> & fix", **GITHUB_RUN
    )

    assert result.returncode == 0, result.stderr
    out = parsed(result)
    assert out["outcome"] == "applied" and out["exit_code"] == 0
    assert out["actor"] == {
        "identity": PIPELINE,
        "run_url": RUN_URL,
        "source": out["actor"]["source"],
        "on_behalf_of": None,
    }
    assert out["plan"]["requested_by"] == PIPELINE and out["plan"]["publishes"] is True
    assert (out["plan"]["alias"], out["plan"]["from_version"]) == ("PROD1", "1")
    assert out["result"]["from_version"] == "1" and out["result"]["to_version"] == "3"
    assert stage.live() == "3"
    assert stage.versions() == ["1", "2", "3"]
    [announcement] = stage.fake.wait_for(lambda f: f.messages(CHANNEL))
    assert announcement["text"] == (
        f"trivia: hotfix PROD1 v1 → v3 by {PIPELINE} (run <{RUN_URL}|4242>)"
        " — crash &lt;!channel&gt; &amp; fix"
    )

    history = parsed(stage.run("history", "--json", **GITHUB_RUN))
    applied = [e for e in history["events"] if e["outcome"] == "applied"]
    assert [(e["actor"], e["to_version"]) for e in applied] == [(PIPELINE, "3")]

    again = stage.run("hotfix", "--yes", "--json", **GITHUB_RUN)
    assert again.returncode == 0, again.stderr
    assert parsed(again)["outcome"] == "noop"
    assert stage.versions() == ["1", "2", "3"] and len(stage.fake.messages(CHANNEL)) == 1


def test_apply_of_a_plan_whose_alias_moved_since_is_refused_as_stale(stage):
    shown = stage.run("hotfix", "--json", "--as", OPERATOR)
    assert shown.returncode == 0, shown.stderr
    plan_id = parsed(shown)["plan"]["id"]
    # someone else moves the live alias between the plan and its confirmation
    stage.client.update_alias(FunctionName=FN, Name="PROD1", FunctionVersion="2")

    result = stage.run("apply", plan_id, "--as", OPERATOR)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "moved" in result.stderr and "again" in result.stderr
    # the hint names the terminal's command, not Slack's, and carries no Slack markup
    assert "skillbot hotfix trivia" in result.stderr and "/skill" not in result.stderr
    assert "`" not in result.stderr
    assert stage.live() == "2"
    assert stage.fake.messages() == []
    # the plan is spent: applying it once more does not reach AWS either
    twice = stage.run("apply", plan_id, "--as", OPERATOR, "--json")
    assert twice.returncode == 1 and parsed(twice)["error"]["kind"] == "refused"
    assert stage.live() == "2"


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        (GITHUB_RUN, "The pipeline github:acme/trivia may not confirm a hotfix"),
        ({"SKILLBOT_ACTOR": STRANGER}, "Only operators may hotfix"),
    ],
)
def test_an_unauthorized_actor_is_refused_with_exit_1(stage, who, refusal):
    write_skills(stage.tmp)  # no pipelines listed
    result = stage.run("hotfix", "--yes", "--json", **who)

    assert result.returncode == 1, result.stdout + result.stderr
    assert parsed(result)["error"]["kind"] == "not_authorized"
    assert refusal in result.stderr
    assert "--request" in result.stderr or "Ask one of" in result.stderr
    assert stage.live() == "1"
    assert stage.fake.messages() == []


#: what Slack's mrkdwn would show as markup, and a terminal as noise
SLACK_MARKUP = ("<@", "<#", "<http", "`", "*", ":warning:")


def test_a_refusal_names_who_may_by_id_without_slack_markup(stage):
    result = stage.run("hotfix", "--yes", SKILLBOT_ACTOR=STRANGER)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "skillbot: Only operators may hotfix.",
        "Ask one of U0ALICE, U0BOB.",
    ]
    assert stage.live() == "1"


def test_a_plan_note_shows_its_address_and_link_as_plain_text(stage):
    result = stage.run("certify", "--reason", "quiz *intent* `x`", SKILLBOT_ACTOR=OPERATOR)

    assert result.returncode == 0, result.stdout + result.stderr
    arn = stage.client.get_function(FunctionName=FN)["Configuration"]["FunctionArn"]
    [note] = [line for line in result.stdout.splitlines() if line.startswith("  note")]
    assert note.split(None, 1)[1] == (
        f"• for certification Alexa must call {arn}:PROD2 (PROD2): enter it in the Alexa "
        "developer console (https://developer.amazon.com/alexa/console/ask) under Build → "
        "Endpoint (the default and every region) before you submit"
    )
    # what the person typed is shown as typed; the bot's own words carry no markup
    assert "  reason        quiz *intent* `x`" in result.stdout
    shown = result.stdout.replace("quiz *intent* `x`", "")
    assert not [m for m in SLACK_MARKUP if m in shown], shown


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (
            ["hotfix", "--yes"],
            {"SLACK_BOT_TOKEN": "", "SKILLBOT_ACTOR": OPERATOR},
            "SLACK_BOT_TOKEN",
        ),
        (["hotfix"], {}, "--as"),
        (["hotfix", "quiz"], {"SKILLBOT_ACTOR": OPERATOR}, "There is no skill called quiz."),
        (["hotfix", "--wait", "30m"], {"SKILLBOT_ACTOR": OPERATOR}, "--request"),
        (["hotfix", "--as", "alice"], {}, "'alice' is not a Slack member id"),
        (["hotfix", "--yes", "--as", PIPELINE], {}, "a terminal cannot act as the pipeline"),
        (["status"], {"DATABASE_URL": "sqlite:///elsewhere.db"}, "bot's own database"),
    ],
)
def test_a_configuration_or_usage_error_exits_2_and_changes_nothing(stage, args, env, named):
    result = stage.run(*args, **env)

    assert result.returncode == 2, result.stdout + result.stderr
    assert named in result.stderr
    assert stage.live() == "1" and stage.versions() == ["1", "2"]


def test_an_unlisted_pipeline_cannot_apply_as_the_person_it_names(stage):
    unlisted = {**GITHUB_RUN, "GITHUB_REPOSITORY": "acme/other"}
    result = stage.run("hotfix", "--yes", "--json", SKILLBOT_ACTOR=OPERATOR, **unlisted)

    assert result.returncode == 1, result.stdout + result.stderr
    out = parsed(result)
    assert out["actor"]["identity"] == "github:acme/other"
    assert out["actor"]["on_behalf_of"] == OPERATOR
    assert "github:acme/other may not" in out["error"]["message"]
    assert "--request" in out["error"]["hint"]
    assert stage.live() == "1" and stage.fake.messages(CHANNEL) == []


def test_with_terminal_apply_off_a_terminal_change_is_only_a_request(stage):
    write_skills(stage.tmp, pipelines=[PIPELINE], terminal_apply=False)
    result = stage.run("hotfix", "--yes", SKILLBOT_ACTOR=OPERATOR)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "terminal_apply = false" in result.stderr and "--request" in result.stderr
    assert stage.live() == "1"
    # the listed pipeline still applies
    assert stage.run("hotfix", "--yes", **GITHUB_RUN).returncode == 0
    assert stage.live() == "3"


def test_a_usage_error_with_json_is_one_json_object_and_exits_2(stage):
    result = stage.run("hotfix", "--json", "--request", "--wait", "9999999999d")

    assert result.returncode == 2, result.stdout + result.stderr
    out = parsed(result)
    assert (out["command"], out["outcome"], out["error"]["kind"]) == ("hotfix", "error", "usage")
    assert "'9999999999d' is longer than 366 days" in out["error"]["message"]
    assert "Traceback" not in result.stderr
    assert stage.live() == "1"


def test_an_unreachable_postgresql_exits_3(stage):
    result = stage.run(
        "status", "--json", DATABASE_URL="postgresql://skillbot@127.0.0.1:9/skillbot"
    )

    assert result.returncode == 3, result.stdout + result.stderr
    out = parsed(result)
    assert out["outcome"] == "unavailable" and "Cannot open the database" in out["error"]["message"]
    assert "Traceback" not in result.stderr


def test_aws_unreachable_exits_3(stage):
    result = stage.run(
        "hotfix", "--json", AWS_ENDPOINT_URL="http://127.0.0.1:9", SKILLBOT_ACTOR=OPERATOR
    )

    assert result.returncode == 3, result.stdout + result.stderr
    out = parsed(result)
    assert out["outcome"] == "unavailable" and out["error"]["kind"] == "unavailable"
    assert "retry" in result.stderr.lower() or "try again" in result.stderr.lower()


def test_status_reads_what_slack_shows(stage):
    result = stage.run("status", "--json")

    assert result.returncode == 0, result.stderr
    out = parsed(result)
    assert (out["live_alias"], out["candidate_alias"]) == ("PROD1", "PROD2")
    assert [(a["name"], a["role"], a["version"]) for a in out["aliases"]] == [
        ("PROD1", "live", "1"),
        ("PROD2", "candidate", "2"),
    ]
    assert out["pending_certification"] is None


# --- --request: an operator confirms in Slack, through the running bot --------------------


@pytest.fixture
def running(bot, moto_endpoint, tmp_path) -> tuple[Stage, Bot]:
    """The stage around the real bot process (``bot`` of conftest): its database and its
    skills file (the tests' usual one: no pipelines listed)."""
    running_bot, client = bot
    deploy(client, FN, "VERSION = 3\n")
    return Stage(client, running_bot.fake, moto_endpoint, tmp_path), running_bot


def posted_request(fake: FakeSlack) -> dict[str, Any]:
    """The plan the command line posted in the channel, once it is there."""
    [message] = fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "asks an operator" in m["text"]], timeout=30
    )
    return message


def test_request_is_confirmed_in_slack_while_the_command_waits(running):
    stage, bot = running
    cli = start_skillbot(
        "hotfix",
        "--request",
        "--wait",
        "5m",
        "--reason",
        "crash fix",
        env=stage.env(**GITHUB_RUN),
        cwd=stage.tmp,
    )
    try:
        request = posted_request(stage.fake)
        assert request["text"] == (
            f"{PIPELINE} (run <{RUN_URL}|4242>) asks an operator to confirm: "
            "hotfix trivia: PROD1 v1 → a new version from $LATEST"
        )
        assert stage.live() == "1", "nothing moves before an operator confirms"
        # nobody else may confirm it, and their click leaves the request in place
        refused = bot.click(kit.CONFIRM, button_value(request, kit.CONFIRM), STRANGER)
        assert "Only operators" in refused["text"] and not refused.get("replace_original")
        assert stage.live() == "1"

        bot.click(kit.CONFIRM, button_value(request, kit.CONFIRM), OPERATOR)
        assert cli.proc is not None
        code = cli.proc.wait(timeout=60)
    finally:
        cli.kill()
    output = cli.log()
    assert code == 0, output
    assert "Applied by U0ALICE: hotfix trivia: PROD1 v1 → v3" in output
    assert stage.live() == "3"
    announced = stage.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if m["text"].startswith("trivia: hotfix")]
    )
    assert announced[0]["text"] == (
        f"trivia: hotfix PROD1 v1 → v3 planned by {PIPELINE} (run <{RUN_URL}|4242>), "
        "confirmed by <@U0ALICE> — crash fix"
    )


def test_a_request_nobody_confirms_is_withdrawn_and_exits_1(running):
    stage, bot = running
    result = stage.run("hotfix", "--request", "--wait", "2s", "--json", **GITHUB_RUN)

    assert result.returncode == 1, result.stdout + result.stderr
    out = parsed(result)
    assert out["outcome"] == "timeout" and "Nobody confirmed the plan within 2s" in out["message"]
    request = posted_request(stage.fake)
    [closed] = stage.fake.updates(CHANNEL, request["ts"])
    assert closed["text"].startswith("Nobody confirmed within 2s; nothing changed")
    assert "plan_confirm" not in json.dumps(closed["blocks"])
    # a late click on the old buttons applies nothing
    status, _ = bot.send(
        block_action_body(
            kit.CONFIRM,
            button_value(request, kit.CONFIRM),
            user_id=OPERATOR,
            response_url=stage.fake.response_url(),
        )
    )
    assert status == 200
    bot.process.wait_for_log("confirmed again; ignored")
    assert stage.live() == "1" and stage.versions() == ["1", "2"]


def test_a_request_cancelled_in_slack_exits_1(running):
    stage, bot = running
    cli = start_skillbot(
        "hotfix", "--request", "--wait", "5m", env=stage.env(**GITHUB_RUN), cwd=stage.tmp
    )
    try:
        request = posted_request(stage.fake)
        bot.click(kit.DISMISS, button_value(request, kit.DISMISS), OPERATOR)
        assert cli.proc is not None
        code = cli.proc.wait(timeout=60)
    finally:
        cli.kill()
    assert code == 1, cli.log()
    assert "An operator cancelled the plan in Slack; nothing changed." in cli.log()
    assert stage.live() == "1"


def test_a_cancelled_job_withdraws_its_request(stage):
    cli = start_skillbot(
        "hotfix", "--request", "--wait", "5m", env=stage.env(**GITHUB_RUN), cwd=stage.tmp
    )
    try:
        request = posted_request(stage.fake)
        cli.wait_for_log("Waiting up to 5m")
        code = cli.kill(signal.SIGTERM)  # what a CI runner sends a cancelled job
    finally:
        cli.kill()
    assert code == 130, cli.log()
    assert "Stopped waiting: the request in Slack is withdrawn and nothing changed." in cli.log()
    [closed] = stage.fake.updates(CHANNEL, request["ts"])
    assert closed["text"].startswith("The command that asked stopped waiting; nothing changed")
    assert "plan_confirm" not in json.dumps(closed["blocks"])
    assert stage.live() == "1"


@pytest.mark.parametrize("args", [["doctor"], ["status", "--json"]], ids=["doctor", "json"])
def test_output_cut_by_a_closed_pipe_ends_quietly_with_141(stage, args):
    # skillbot doctor | head -1: head has exited, and every write to stdout fails
    result = skillbot_into_closed_pipe(*args, env=stage.env(**GITHUB_RUN), cwd=stage.tmp)
    assert result.returncode == 141, result.stderr
    # (doctor's own warnings may still be on stderr: moto has no account settings)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_doctor_fixes_then_certify_and_cancel_from_a_pipeline(stage):
    checked = stage.run("doctor", "--json", **GITHUB_RUN)
    assert checked.returncode == 1, "problems remain: a pipeline gate fails"
    report = parsed(checked)
    assert report["outcome"] == "problems" and len(report["fixes"]) == 3
    arn = stage.client.get_function(FunctionName=FN)["Configuration"]["FunctionArn"]
    assert "skillbot:live-alias" not in stage.client.list_tags(Resource=arn)["Tags"]

    fixed = stage.run("doctor", "--yes", **GITHUB_RUN)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    for alias in ("PROD1", "PROD2"):
        policy = json.loads(stage.client.get_policy(FunctionName=FN, Qualifier=alias)["Policy"])
        assert "alexa-appkit.amazon.com" in json.dumps(policy["Statement"])
    assert stage.client.list_tags(Resource=arn)["Tags"]["skillbot:live-alias"] == "PROD1"

    certified = stage.run("certify", "--yes", "--json", "--reason", "quiz intent", **GITHUB_RUN)
    assert certified.returncode == 0, certified.stderr
    assert alias_version(stage.client, FN, "PROD2") == "3"
    [message] = stage.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "certify" in m["text"]]
    )
    assert message["text"] == f"trivia: certify PROD2 v2 → v3 by {PIPELINE} — quiz intent"
    pending = parsed(stage.run("status", "--json"))["pending_certification"]
    assert pending["requested_by"] == PIPELINE and pending["version"] == "3"

    cancelled = stage.run("cancel", "--yes", "--reason", "wrong build", **GITHUB_RUN)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert parsed(stage.run("status", "--json"))["pending_certification"] is None
    update = stage.fake.wait_for(lambda f: f.updates(CHANNEL, message["ts"]))[-1]
    assert f"cancelled by {PIPELINE}" in json.dumps(update["blocks"])


def test_prune_from_a_pipeline_deletes_only_what_nothing_refers_to(stage):
    for n in (4, 5):  # more published versions than the aliases use
        deploy(stage.client, FN, f"VERSION = {n}\n")
        stage.client.publish_version(FunctionName=FN)
    assert stage.versions() == ["1", "2", "3", "4"]
    shown = stage.run("prune", "--keep", "1", **GITHUB_RUN)
    assert shown.returncode == 0, shown.stderr
    assert "deletes v3" in shown.stdout and stage.versions() == ["1", "2", "3", "4"]
    result = stage.run("prune", "--keep", "1", "--yes", "--json", **GITHUB_RUN)
    assert result.returncode == 0, result.stderr
    assert parsed(result)["outcome"] == "applied"
    # PROD1 → v1 and PROD2 → v2 stay, and v4, the most recent
    assert stage.versions() == ["1", "2", "4"]


def test_a_pipeline_hotfixes_every_region_of_a_skill_and_reads_each_regions_move(
    moto_endpoint, tmp_path
):
    functions = create_regional_functions(FN, moto_endpoint)
    for fn, client in functions.values():
        deploy(client, fn, "VERSION = 3\n")
    regional = {r: functions[r][0] for r in ("EU", "FE")}
    write_skills(
        tmp_path, pipelines=[PIPELINE], skill_keys={"trivia": {"regional_functions": regional}}
    )
    with FakeSlack() as fake:
        env = cli_env(fake, moto_endpoint, tmp_path, **GITHUB_RUN)
        assert skillbot("migrate", cwd=tmp_path, env=env).returncode == 0
        shown = skillbot("hotfix", cwd=tmp_path, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "  region EU     PROD1: EU v1 → a new version, code sha256 " in shown.stdout
        assert "  region FE     PROD1: FE v1 → a new version, code sha256 " in shown.stdout

        done = skillbot("hotfix", "--yes", "--json", "--reason", "crash", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        result = parsed(done)
        assert result["plan"]["default_region"] == "NA"
        assert [(m["region"], m["function"]) for m in result["plan"]["regions"]] == [
            ("EU", regional["EU"]),
            ("FE", regional["FE"]),
        ]
        moved = [
            (m["region"], m["from_version"], m["to_version"]) for m in result["result"]["regions"]
        ]
        assert moved == [("EU", "1", "3"), ("FE", "1", "3")]
        assert {alias_version(c, fn, "PROD1") for fn, c in functions.values()} == {"3"}
        [announced] = [m for m in fake.messages(CHANNEL) if "hotfix" in m["text"]]
        assert "(NA), EU v1 → v3, FE v1 → v3 by github:acme/trivia (run <" in announced["text"]


def test_a_lock_from_the_terminal_holds_for_a_pipeline_until_unlocked(stage: Stage) -> None:
    locked = stage.run("lock", "--reason", "incident 42", SKILLBOT_ACTOR=OPERATOR)
    assert locked.returncode == 0, locked.stderr
    assert "trivia is locked by U0ALICE since " in locked.stdout
    assert "skillbot unlock trivia" in locked.stdout and "`" not in locked.stdout

    refused = stage.run("hotfix", "--yes", "--json", **GITHUB_RUN)
    assert refused.returncode == 1, refused.stderr
    error = parsed(refused)["error"]["message"]
    assert "trivia is locked by U0ALICE" in error and "incident 42" in error
    assert stage.live() == "1" and stage.versions() == ["1", "2"]  # nothing published

    status = parsed(stage.run("status", "--json", SKILLBOT_ACTOR=OPERATOR))
    assert status["lock"]["locked_by"] == OPERATOR and status["lock"]["reason"] == "incident 42"

    unlocked = stage.run("unlock", SKILLBOT_ACTOR=OPERATOR)
    assert unlocked.returncode == 0, unlocked.stderr
    assert [m["text"][:8] for m in stage.fake.messages(CHANNEL)] == [":lock: t", ":unlock:"]
    applied = stage.run("hotfix", "--yes", **GITHUB_RUN)
    assert applied.returncode == 0, applied.stderr
    assert stage.live() == "3"
