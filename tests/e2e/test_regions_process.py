"""A skill served from three AWS regions through the real process (``python -m bot`` over
moto_server, which serves every region from one endpoint, and the fake Slack): doctor's
Fix, certify, the approver's reaction, hotfix and rollback, each region's aliases and role
tag asserted after every step, and one announcement per change naming every region."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from bot.adapters.slack import kit
from bot.devkit.aws import deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from tests.support import aws as aws_state
from tests.support.aws import create_regional_functions, deploy_everywhere, in_every_region
from tests.support.canary import publish_lambda_metrics
from tests.support.e2e import Bot
from tests.support.messages import button_value
from tests.support.process import bot_env, start_bot
from tests.support.skills import CHANNEL, skills_config, write_skills_file
from tests.support.users import APPROVER

FN = "trivia-skill"
CANARY_PERIOD = 5  # seconds: the canary's metric period in these tests


@pytest.fixture
def regional_bot(moto_endpoint, tmp_path) -> Iterator[tuple[Bot, dict]]:
    functions = create_regional_functions(FN, moto_endpoint)
    config = skills_config(
        skill_keys={"trivia": {"regional_functions": {r: functions[r][0] for r in ("EU", "FE")}}},
        canary_period=CANARY_PERIOD,
        canary_min_invocations=5,
    )
    path = write_skills_file(tmp_path / "skillbot.toml", config)
    port = free_port()
    with FakeSlack() as fake:
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=port, config=path)
        process = start_bot(env, cwd=tmp_path)
        try:
            yield Bot(f"http://127.0.0.1:{port}", fake, process), functions
        finally:
            process.kill()


def aliases(functions) -> dict[str, tuple[str, str]]:
    """Each region's (PROD1, PROD2) versions."""
    return in_every_region(functions, aws_state.aliases)


def tags(functions) -> set[str | None]:
    return set(in_every_region(functions, aws_state.live_tag).values())


def announced(b: Bot, needle: str) -> list[dict]:
    return b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if needle in m["text"] and not m.get("thread_ts")]
    )


def test_a_three_region_skill_through_a_whole_cycle(regional_bot):
    b, functions = regional_bot
    assert aliases(functions) == {r: ("1", "2") for r in ("NA", "EU", "FE")}

    # doctor → Fix all: triggers on both aliases in every region, the role on every function
    report = b.command("doctor")
    assert "EU: Alexa trigger on PROD1" in str(report)
    done = b.click(kit.FIX_ALL, button_value(report, kit.FIX_ALL))
    assert done["text"].count("Done") == 9, done["text"]
    assert tags(functions) == {"PROD1"}

    # certify → Confirm: PROD2 v3 in every region, one certification message
    deploy_everywhere(functions, "VERSION = 3\n")
    plan = b.command("certify -- quiz intent")
    assert "EU" in str(plan) and "FE" in str(plan)
    b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert aliases(functions) == {r: ("1", "3") for r in ("NA", "EU", "FE")}
    [cert_msg] = announced(b, "certify")

    # the approver's reaction: PROD2 live in every region, no alias moved
    b.react(APPROVER, cert_msg["ts"])
    [promoted] = announced(b, "promoted")
    assert "PROD2 v3 (NA), EU v1 → v3, FE v1 → v3" in promoted["text"]
    assert tags(functions) == {"PROD2"}
    assert aliases(functions) == {r: ("1", "3") for r in ("NA", "EU", "FE")}

    # hotfix → Confirm: v4 onto PROD2 in every region, one announcement naming each
    deploy_everywhere(functions, "VERSION = 4\n")
    plan = b.command("hotfix -- quiz crash")
    result = b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert result["text"].startswith("Done: trivia: hotfix PROD2 v3 → v4 (NA), EU v3 → v4")
    assert aliases(functions) == {r: ("1", "4") for r in ("NA", "EU", "FE")}
    [hotfix] = announced(b, "hotfix")
    assert hotfix["text"] == (
        "trivia: hotfix PROD2 v3 → v4 (NA), EU v3 → v4, FE v3 → v4 by <@U0ALICE> — quiz crash"
    )

    # rollback → Confirm: back to v3 in every region
    plan = b.command("rollback -- v4 slower")
    b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert aliases(functions) == {r: ("1", "3") for r in ("NA", "EU", "FE")}
    [rollback] = announced(b, "rollback")
    assert "PROD2 v4 → v3 (NA), EU v4 → v3, FE v4 → v3" in rollback["text"]
    assert tags(functions) == {"PROD2"}
    assert "Traceback" not in b.process.log()


def routing(functions) -> dict[str, tuple[str, dict]]:
    """Each region's PROD1: its version and its weights."""
    return in_every_region(functions, aws_state.routing)


def traffic(functions, region: str, version: str, invocations: int, errors: int = 0) -> None:
    """What Lambda publishes in ``region``'s CloudWatch for the weighted alias PROD1, now
    (every region's function is called ``trivia-skill``: only the region tells them apart)."""
    _fn, client = functions[region]
    cloudwatch = boto3.client(
        "cloudwatch", region_name=client.meta.region_name, endpoint_url=client.meta.endpoint_url
    )
    publish_lambda_metrics(cloudwatch, version, invocations, errors, function=FN)


def test_a_canary_runs_in_every_region_and_errors_in_one_abort_it_everywhere(regional_bot):
    b, functions = regional_bot
    deploy_everywhere(functions, "VERSION = 3\n")
    plan = b.command("hotfix --canary 10% --for 10m -- crash fix")
    assert "EU" in str(plan) and "FE" in str(plan)
    result = b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert result["text"].startswith(
        "Done: trivia: canary PROD1 v1 → v3 (NA), EU v1 → v3, FE v1 → v3 at 10% for 10m"
    ), result["text"]
    assert routing(functions) == {r: ("1", {"3": 0.1}) for r in functions}
    [message] = announced(b, "trivia: canary PROD1")
    assert "(NA), EU v1 → v3, FE v1 → v3 for 10% of traffic" in message["text"]

    for region in ("NA", "FE"):
        traffic(functions, region, "1", 4000)
        traffic(functions, region, "3", 400)
    traffic(functions, "EU", "1", 50)
    # EU's marketplace breaks (60 %); all regions together: 6 errors in 810 (0.74 %), within
    # the 1-point margin, so only the per-region check sees it
    traffic(functions, "EU", "3", 10, 6)
    [aborted] = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "canary aborted" in m["text"]], timeout=30
    )
    assert "aborted: in EU, the new version's error rate" in aborted["text"], aborted["text"]
    assert routing(functions) == {r: ("1", {}) for r in functions}, "weights cleared everywhere"
    assert "Traceback" not in b.process.log()


def test_regions_out_of_sync_are_refused_before_anything_moves(regional_bot):
    b, functions = regional_bot
    deploy_everywhere(functions, "VERSION = 3\n")
    deploy(functions["EU"][1], functions["EU"][0], "VERSION = 3  # eu only\n")
    refused = b.command("hotfix -- crash")
    assert "EU has code" in refused["text"] and "Deploy the same code" in refused["text"]
    assert aliases(functions) == {r: ("1", "2") for r in ("NA", "EU", "FE")}
    assert b.fake.messages(CHANNEL) == []


def versions(functions) -> dict[str, list[str]]:
    return in_every_region(functions, aws_state.versions)


def test_prune_deletes_old_versions_in_every_region(regional_bot):
    b, functions = regional_bot
    for n in (3, 4, 5):
        deploy_everywhere(functions, f"VERSION = {n}\n")
        for fn, client in functions.values():
            client.publish_version(FunctionName=fn)
    eu_fn, eu_client = functions["EU"]
    eu_client.create_alias(FunctionName=eu_fn, Name="qa", FunctionVersion="3")
    plan = b.command("prune --keep 1")
    assert plan["text"].startswith("Plan: prune trivia: delete 5 old version(s)")
    shown = str(plan["blocks"])
    assert "*EU*" in shown and "1 version(s)" in shown and "*FE*" in shown
    result = b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert "EU: Deleted v4;" in result["text"], result["text"]
    assert versions(functions) == {
        "NA": ["$LATEST", "1", "2", "5"],
        "EU": ["$LATEST", "1", "2", "3", "5"],
        "FE": ["$LATEST", "1", "2", "5"],
    }
    assert aliases(functions) == {r: ("1", "2") for r in ("NA", "EU", "FE")}
    assert "Traceback" not in b.process.log()
