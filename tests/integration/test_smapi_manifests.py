"""The SMAPI client's manifest calls against the fake SMAPI: stages read with their ETag,
updates guarded by If-Match, the manifest build's status; and the copies the fake makes
on submit, publish and withdraw."""

from __future__ import annotations

import pytest

from bot.domain.endpoints import manifest_endpoints
from bot.domain.errors import NotFound, Refused, StalePlan
from tests.support.fakes import SKILL_ID

SKILL = SKILL_ID
PROD1 = "arn:aws:lambda:us-east-1:123456789012:function:trivia-skill:PROD1"
PROD2 = "arn:aws:lambda:us-east-1:123456789012:function:trivia-skill:PROD2"


def test_a_stage_is_read_with_its_etag_and_updated_with_it(fake, client):
    fake.set_stage_endpoint(SKILL, "development", PROD1, {"EU": PROD1})
    stage = client.stage_manifest(SKILL, "development")
    assert stage.etag == fake.etag(SKILL, "development")
    assert manifest_endpoints(stage.manifest).all_uris() == [PROD1]
    edited = dict(stage.manifest, apis={"custom": {"endpoint": {"uri": PROD2}}})
    client.update_manifest(SKILL, "development", edited, stage.etag)
    assert fake.stage_uris(SKILL, "development") == {"default": PROD2}
    [put] = [r for r in fake.requests if r.method == "PUT"]
    assert put.headers["if-match"] == stage.etag and put.body == {"manifest": edited}


def test_a_stale_etag_is_a_stale_plan(fake, client):
    stage = client.stage_manifest(SKILL, "development")
    fake.set_stage_endpoint(SKILL, "development", PROD1)  # someone saved in the console
    with pytest.raises(StalePlan) as err:
        client.update_manifest(SKILL, "development", stage.manifest, stage.etag)
    assert "changed by someone else" in err.value.message and err.value.hint
    assert fake.stage_uris(SKILL, "development") == {"default": PROD1}


def test_only_the_development_stage_can_be_updated(fake, client):
    fake.set_stage_endpoint(SKILL, "live", PROD1)
    stage = client.stage_manifest(SKILL, "live")
    with pytest.raises(Refused):
        client.update_manifest(SKILL, "live", stage.manifest, stage.etag)


def test_the_manifest_build_reports_progress_then_its_outcome(fake, client):
    fake.set_manifest_build(SKILL, "FAILED", in_progress_polls=1, errors=["Bad endpoint."])
    stage = client.stage_manifest(SKILL, "development")
    client.update_manifest(SKILL, "development", stage.manifest, stage.etag)
    assert client.manifest_build(SKILL).status == "IN_PROGRESS"
    build = client.manifest_build(SKILL)
    assert build.status == "FAILED" and build.errors == ("Bad endpoint.",)
    [status] = {r.query for r in fake.requests_to("/status")}
    assert status == "resource=manifest"


def test_submit_copies_development_to_certification_and_publish_to_live(fake, client):
    fake.set_stage_endpoint(SKILL, "development", PROD2)
    with pytest.raises(NotFound):
        client.stage_manifest(SKILL, "certification")
    client.submit_for_certification(SKILL, "next model")
    assert fake.stage_uris(SKILL, "certification") == {"default": PROD2}
    fake.set_certification(SKILL, "SUCCEEDED")
    client.publish(SKILL)
    assert client.live_endpoints(SKILL).all_uris() == [PROD2]


def test_withdraw_removes_the_certification_stage(fake, client):
    client.submit_for_certification(SKILL, "next model")
    client.withdraw(SKILL, "MORE_FEATURES")
    assert fake.manifest(SKILL, "certification") is None
