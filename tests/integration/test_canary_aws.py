"""Canaries and pruning against moto (Lambda, CloudWatch) and, for what moto does not
do, botocore's Stubber answering as AWS does.

moto gaps met here: ``UpdateAlias`` ignores ``RevisionId`` (no PreconditionFailed);
``DeleteFunction`` deletes a version an alias points at (AWS answers
ResourceConflictException); ``GetAccountSettings`` is not implemented (404); Lambda
publishes no metrics of its own (``put_metric_data`` stands in for invocations).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from bot.adapters.aws_errors import from_aws
from bot.adapters.cloudwatch import CloudWatchMetrics
from bot.adapters.slack.kit import say
from bot.adapters.slack.plans import doctor_blocks
from bot.adapters.store import open_store
from bot.devkit.aws import create_skill_function, deploy
from bot.domain.canary import Tally
from bot.domain.errors import Refused, StalePlan, Unavailable
from bot.domain.model import Outcome
from bot.domain.words import Typed, words
from bot.service.planning import DoctorReport
from tests.support.aws import adapter
from tests.support.canary import publish_lambda_metrics
from tests.support.fakes import FakeClock
from tests.support.faults import refuse_revision
from tests.support.users import OPERATOR
from tests.support.world import compose_over, make_world

FN = "trivia-skill"


def test_figures_per_version_and_period_in_one_call(aws):
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    start -= timedelta(seconds=start.second)
    publish_lambda_metrics(cw, "1", 500, 1, at=start + timedelta(seconds=10))
    publish_lambda_metrics(cw, "3", 50, 0, at=start + timedelta(seconds=20))
    publish_lambda_metrics(cw, "1", 400, 0, at=start + timedelta(seconds=70))
    publish_lambda_metrics(cw, "3", 40, 6, at=start + timedelta(seconds=75))
    publish_lambda_metrics(
        cw, "2", 999, 999, at=start + timedelta(seconds=75)
    )  # another version: not counted
    publish_lambda_metrics(
        cw, "3", 999, 999, at=start + timedelta(seconds=75), alias="PROD2"
    )  # another alias
    metrics = CloudWatchMetrics(cw)
    figures = metrics.canary_figures(
        FN, "PROD1", "1", "3", start, start + timedelta(seconds=90), 60
    )
    assert [(p.start - start, p.old, p.new) for p in figures.periods] == [
        (timedelta(0), Tally(500, 1), Tally(50, 0)),
        (timedelta(seconds=60), Tally(400, 0), Tally(40, 6)),
    ]
    assert figures.new == Tally(90, 6)


def test_weights_set_and_cleared_with_one_update_alias(aws):
    client = create_skill_function()
    lam = adapter(client)
    deploy(client, FN, "VERSION = 3\n")
    lam.publish_version(FN, lam.wait_until_updated(FN).code_sha256, "")
    state = lam.route(FN, "PROD1", "1", {"3": 0.1}, lam.get_alias(FN, "PROD1").revision_id)
    assert (state.version, state.routing) == ("1", {"3": 0.1})
    assert {a.name: a.routing for a in lam.list_aliases(FN)} == {"PROD1": {"3": 0.1}, "PROD2": {}}
    done = lam.route(FN, "PROD1", "3", {}, state.revision_id)
    assert (done.version, done.routing) == ("3", {})
    assert client.get_alias(FunctionName=FN, Name="PROD1")["FunctionVersion"] == "3"


def test_prune_deletes_old_versions_never_a_referenced_one(aws):
    client = create_skill_function()
    for n in range(3, 9):
        deploy(client, FN, f"VERSION = {n}\n")
        client.publish_version(FunctionName=FN)
    client.create_alias(FunctionName=FN, Name="staging", FunctionVersion="3")
    client.update_alias(
        FunctionName=FN, Name="PROD2", RoutingConfig={"AdditionalVersionWeights": {"4": 0.05}}
    )
    services = compose_over(adapter(client), open_store("sqlite://"), FakeClock())
    offer = services.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=2)
    # v1, v2 (PROD1, PROD2), v3 (staging), v4 (weighted), v7, v8 (the two most recent) stay
    assert [v.number for v in offer.versions] == ["5", "6"]
    assert all(v.code_size > 0 for v in offer.versions)
    client.create_alias(FunctionName=FN, Name="qa", FunctionVersion="6")  # meanwhile
    change = services.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    left = [v["Version"] for v in client.list_versions_by_function(FunctionName=FN)["Versions"]]
    assert left == ["$LATEST", "1", "2", "3", "4", "6", "7", "8"]
    assert change.notes[0].startswith("Deleted v5;")
    assert change.notes[1] == "Kept, in use by now: v6 (alias qa points at it)."
    event = services.runtime.store.audit("trivia", 1)[0]
    assert (event.operation, event.outcome) == ("prune", Outcome.APPLIED)
    services.close()


# -- what moto does not enforce: real AWS answers through botocore's Stubber ----------


def test_weights_on_a_moved_alias_are_a_stale_plan(stubbed):
    lam, stub = stubbed
    refuse_revision(
        stub,
        FunctionName=FN,
        Name="PROD1",
        FunctionVersion="1",
        RevisionId="rev-old",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}},
    )
    with pytest.raises(StalePlan, match="changed in AWS after the plan was shown"):
        lam.route(FN, "PROD1", "1", {"3": 0.1}, "rev-old")


def test_a_version_in_use_is_kept_as_aws_refuses_it(stubbed):
    lam, stub = stubbed
    stub.add_client_error(
        "delete_function",
        service_error_code="ResourceConflictException",
        service_message="Unable to delete version because the following aliases "
        "reference it: [PROD1]",
        http_status_code=409,
        expected_params={"FunctionName": FN, "Qualifier": "7"},
    )
    with pytest.raises(Refused, match=r"AWS keeps version 7: .*PROD1"):
        lam.delete_version(FN, "7")
    with pytest.raises(Refused):
        lam.delete_version(FN, "$LATEST")  # never even asked


def test_code_storage_from_the_account_settings(stubbed):
    lam, stub = stubbed
    stub.add_response(
        "get_account_settings",
        {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 1,
                "CodeSizeZipped": 1,
            },
            "AccountUsage": {"TotalCodeSize": 70000000000, "FunctionCount": 3},
        },
    )
    assert lam.code_storage() == (70000000000, 80530636800)


def test_doctor_reports_code_storage_and_survives_without_it(aws):
    client = create_skill_function()
    services = compose_over(
        adapter(client),
        __import__("bot.adapters.store", fromlist=["x"]).open_store("sqlite://"),
        FakeClock(),
    )
    report = services.cases.planning.doctor("trivia", actor=OPERATOR)
    [storage] = [f for f in report.findings if f.check == "code storage"]
    # moto has no GetAccountSettings: said with AWS's code and words, one line
    assert say(storage.detail) == (
        "could not be read: AWS failed to read the account settings on the region: 404 "
        "Not yet implemented."
    )
    assert storage.ok and not storage.checked, "no problem found, none ruled out"
    services.close()


def test_a_doctor_check_that_could_not_run_is_not_shown_as_passed():
    w = make_world()
    page = "<!doctype html>\n<html><body><h1>404 Not Found</h1>" + "x" * 5000 + "</body></html>"
    w.lam.storage_error = Unavailable(words("AWS failed: ", from_aws(page)))
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    text, blocks = doctor_blocks(report)
    lines = blocks[1]["text"]["text"].splitlines()
    [storage] = [line for line in lines if "code storage" in line]
    assert storage.startswith(":grey_question: code storage: could not be read: AWS failed: ")
    assert "<" not in storage and "doctype" not in storage.lower()
    assert not any(line.startswith(":grey_question:") for line in lines if line != storage)
    problems = sum(line.startswith(":x:") for line in lines)
    assert text == f"trivia: {problems} problem(s) found, 1 check(s) could not run"
    unchecked_only = DoctorReport(report.skill, [f for f in report.findings if f.ok])
    assert unchecked_only.outcome == "no problem found, 1 check(s) could not run"
    passed = DoctorReport(report.skill, [f for f in report.findings if f.ok and f.checked])
    assert passed.outcome == "all checks passed"
    # AWS's own text is one line, cut to a readable length, escaped
    long = from_aws("a <b> & c\n" + "y" * 500).text
    assert len(long) == 200 and "\n" not in long
    assert "&lt;b&gt; &amp; c" in say(words(Typed(long)))


def test_doctor_suggests_prune_above_80_percent():
    w = make_world()
    w.lam.storage_used = int(0.85 * w.lam.storage_limit)
    [storage] = [
        f
        for f in w.cases.planning.doctor("trivia", actor=OPERATOR).findings
        if f.check == "code storage"
    ]
    assert (
        not storage.ok
        and "`/skill prune trivia`" in say(storage.detail)
        and "(85%)" in say(storage.detail)
    )
    w.lam.storage_used = 0
    [storage] = [
        f
        for f in w.cases.planning.doctor("trivia", actor=OPERATOR).findings
        if f.check == "code storage"
    ]
    assert storage.ok and storage.detail.endswith("(0%)")


def test_metrics_unavailable_is_an_error_a_person_can_act_on():
    client = boto3.client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with Stubber(client) as stub:
        stub.add_client_error("get_metric_data", "InternalServiceFault", http_status_code=500)
        with pytest.raises(Unavailable):
            CloudWatchMetrics(client).canary_figures(FN, "PROD1", "1", "3", now, now, 60)
