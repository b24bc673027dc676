"""The SMAPI client against the local fake of SMAPI and Login with Amazon."""

from __future__ import annotations

import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from bot.adapters.smapi import SmapiClient, SmapiCredentials
from bot.domain.alexa import WITHDRAW_REASONS, CertificationReview, SkillEndpoints
from bot.domain.errors import (
    Busy,
    Forbidden,
    NotFound,
    Refused,
    SkillbotError,
    Unavailable,
)
from tests.support.fakes import SKILL_ID
from tests.support.smapi import smapi_client

SKILL = SKILL_ID
UNKNOWN_SKILL = "amzn1.ask.skill.99999999-0000-0000-0000-000000000000"
PROD1 = "arn:aws:lambda:us-east-1:123456789012:function:trivia-skill:PROD1"
PROD2 = "arn:aws:lambda:eu-west-1:123456789012:function:trivia-skill:PROD2"


# -- operations ------------------------------------------------------------------------------


def test_submit_asks_for_manual_publishing_and_starts_a_review(fake, client):
    client.submit_for_certification(SKILL, "Adds the quiz of the week")

    assert fake.skill(SKILL).submissions == [
        {"publicationMethod": "MANUAL_PUBLISHING", "versionMessage": "Adds the quiz of the week"}
    ]
    review = client.most_recent_certification(SKILL)
    assert review is not None
    assert review.status == "IN_PROGRESS"
    assert review.is_pending
    assert review.skill_submission_timestamp is not None
    assert review.skill_submission_timestamp.tzinfo is not None


def test_second_submit_while_in_review_is_refused_with_smapis_message(fake, client):
    client.submit_for_certification(SKILL, "first")

    with pytest.raises(Refused) as caught:
        client.submit_for_certification(SKILL, "second")

    assert "already in certification" in caught.value.message
    assert f"submit skill {SKILL}" in caught.value.message
    assert caught.value.hint
    assert len(fake.skill(SKILL).submissions) == 1


def test_status_reads_estimated_completion(fake, client):
    due = datetime(2031, 5, 2, 14, 30, tzinfo=UTC)
    fake.set_certification(SKILL, "IN_PROGRESS", estimated_completion=due)

    review = client.most_recent_certification(SKILL)

    assert isinstance(review, CertificationReview)
    assert review.status == "IN_PROGRESS"
    assert review.estimated_completion == due
    assert review.actual_completion is None
    assert review.result_summary is None
    assert fake.requests_to("/certifications/mostRecent")[-1].method == "GET"


def test_status_of_a_passed_review_carries_completion_and_result(fake, client):
    fake.set_certification(SKILL, "SUCCEEDED", published_countries=["US", "GB"])

    review = client.most_recent_certification(SKILL)

    assert review is not None
    assert review.status == "SUCCEEDED"
    assert not review.is_pending
    assert review.actual_completion is not None
    assert review.result_summary == "Published in US, GB."


def test_status_is_none_when_the_skill_was_never_submitted(client):
    assert client.most_recent_certification(SKILL) is None


def test_publish_after_certification_passed(fake, client):
    fake.set_certification(SKILL, "SUCCEEDED")

    publication = client.publish(SKILL)

    assert publication.status == "IN_PROGRESS"
    assert publication.publishes_at is not None
    [request] = fake.requests_to("/publications")
    assert request.method == "POST"
    assert request.headers["accept-language"] == "en-US"
    assert len(fake.skill(SKILL).publications) == 1


def test_publish_at_a_later_date_is_scheduled(fake, client):
    fake.set_certification(SKILL, "SUCCEEDED")
    later = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)

    publication = client.publish(SKILL, locale="de-DE", publishes_at=later)

    assert publication.status == "SCHEDULED"
    assert publication.publishes_at == later
    [request] = fake.requests_to("/publications")
    assert request.body == {"publishesAtDate": "2031-01-06T09:00:00Z"}
    assert request.headers["accept-language"] == "de-DE"


def test_publish_before_certification_passed_is_refused(fake, client):
    fake.set_certification(SKILL, "IN_PROGRESS")

    with pytest.raises(Refused) as caught:
        client.publish(SKILL)

    assert "no certified version to publish" in caught.value.message
    assert "passed certification" in caught.value.hint
    assert fake.skill(SKILL).publications == []


def test_withdraw_sends_the_reason_and_ends_the_review(fake, client):
    client.submit_for_certification(SKILL, "v2")

    client.withdraw(SKILL, "DISCOVERED_ISSUE")

    assert fake.skill(SKILL).withdrawals == [{"reason": "DISCOVERED_ISSUE"}]
    review = client.most_recent_certification(SKILL)
    assert review is not None and review.status == "CANCELLED"


def test_withdraw_with_other_sends_the_message(fake, client):
    client.submit_for_certification(SKILL, "v2")

    client.withdraw(SKILL, "OTHER", "Wrong invocation name")

    assert fake.skill(SKILL).withdrawals == [
        {"reason": "OTHER", "message": "Wrong invocation name"}
    ]


@pytest.mark.parametrize(
    ("reason", "message", "hint_says"),
    [
        ("LATER", None, "DISCOVERED_ISSUE"),
        ("discovered_issue", None, "DISCOVERED_ISSUE"),
        ("OTHER", None, "Add the message"),
        ("OTHER", "   ", "Add the message"),
    ],
)
def test_withdraw_checks_the_reason_before_calling_smapi(fake, client, reason, message, hint_says):
    client.submit_for_certification(SKILL, "v2")

    with pytest.raises(Refused) as caught:
        client.withdraw(SKILL, reason, message)

    assert hint_says in caught.value.hint
    assert fake.requests_to("/withdraw") == []


def test_withdraw_reasons_are_smapis():
    assert set(WITHDRAW_REASONS) == {
        "TEST_SKILL",
        "MORE_FEATURES",
        "DISCOVERED_ISSUE",
        "NOT_RECEIVED_CERTIFICATION_FEEDBACK",
        "NOT_INTEND_TO_PUBLISH",
        "OTHER",
    }


def test_withdraw_when_nothing_is_in_review_is_refused(client):
    with pytest.raises(Refused, match="not in certification"):
        client.withdraw(SKILL, "TEST_SKILL")


def test_live_endpoints_default_and_regional(fake, client):
    fake.set_live_endpoint(SKILL, PROD1, regional={"FE": PROD1, "EU": PROD2})

    endpoints = client.live_endpoints(SKILL)

    assert endpoints == SkillEndpoints(default=PROD1, regional={"FE": PROD1, "EU": PROD2})
    assert endpoints.all_uris() == [PROD1, PROD2]
    assert fake.requests_to("/stages/live/manifest")[-1].method == "GET"


def test_live_endpoints_with_only_regional_endpoints(fake, client):
    fake.set_live_endpoint(SKILL, None, regional={"EU": PROD2})

    endpoints = client.live_endpoints(SKILL)

    assert endpoints.default is None
    assert endpoints.all_uris() == [PROD2]


def test_live_endpoints_of_a_never_published_skill_is_not_found(client):
    with pytest.raises(NotFound) as caught:
        client.live_endpoints(SKILL)

    assert "live manifest" in caught.value.message
    assert "never published" in caught.value.hint


def test_unknown_skill_is_not_found_and_points_at_the_skills_file(client):
    with pytest.raises(NotFound) as caught:
        client.submit_for_certification(UNKNOWN_SKILL, "v1")

    assert UNKNOWN_SKILL in caught.value.message
    assert "alexa_skill_id" in caught.value.hint


# -- access tokens ---------------------------------------------------------------------------


def test_one_token_grant_serves_many_calls(fake, client):
    fake.set_certification(SKILL, "SUCCEEDED")
    fake.set_live_endpoint(SKILL, PROD1)

    client.most_recent_certification(SKILL)
    client.live_endpoints(SKILL)
    client.publish(SKILL)
    client.most_recent_certification(SKILL)

    assert fake.token_grants == 1
    [token] = fake.issued_tokens
    smapi_requests = [r for r in fake.requests if r.path.startswith("/v1/")]
    assert len(smapi_requests) == 4
    assert {r.headers["authorization"] for r in smapi_requests} == {f"Bearer {token}"}
    [grant] = fake.requests_to("/auth/o2/token")
    assert grant.body == {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "refresh_token": fake.refresh_token,
    }
    assert grant.headers["content-type"] == "application/x-www-form-urlencoded"


def test_token_is_renewed_shortly_before_it_expires(fake):
    now = [1000.0]
    client = smapi_client(fake, clock=lambda: now[0])

    client.most_recent_certification(SKILL)
    now[0] += 3000  # well within the hour LWA granted
    client.most_recent_certification(SKILL)
    assert fake.token_grants == 1

    now[0] += 570  # 30 s before expiry: renew rather than risk a 401 mid-request
    client.most_recent_certification(SKILL)
    assert fake.token_grants == 2
    assert fake.requests[-1].headers["authorization"] == f"Bearer {fake.issued_tokens[-1]}"


def test_short_lived_tokens_are_renewed_at_half_their_life(fake):
    fake.token_ttl = 20
    now = [0.0]
    client = smapi_client(fake, clock=lambda: now[0])

    client.most_recent_certification(SKILL)
    now[0] += 9
    client.most_recent_certification(SKILL)
    assert fake.token_grants == 1
    now[0] += 2
    client.most_recent_certification(SKILL)
    assert fake.token_grants == 2


def test_a_401_renews_the_token_and_retries_once(fake, client):
    client.most_recent_certification(SKILL)
    fake.expire_tokens()

    client.submit_for_certification(SKILL, "v2")

    assert fake.token_grants == 2
    assert len(fake.requests_to("/submit")) == 2  # refused once, then accepted
    assert len(fake.skill(SKILL).submissions) == 1


def test_a_second_401_is_forbidden_and_not_retried_again(fake, client):
    fake.fail_next("/certifications/mostRecent", 401, {"message": "Token is invalid."}, times=5)

    with pytest.raises(Forbidden) as caught:
        client.most_recent_certification(SKILL)

    assert "Token is invalid." in caught.value.message
    assert "ALEXA_LWA_REFRESH_TOKEN" in caught.value.hint
    assert len(fake.requests_to("/certifications/mostRecent")) == 2
    assert fake.token_grants == 2


def test_concurrent_calls_share_one_token_grant(fake, client):
    start = threading.Barrier(8)

    def read_status(_: int) -> CertificationReview | None:
        start.wait(timeout=5)
        return client.most_recent_certification(SKILL)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(read_status, range(8)))

    assert results == [None] * 8
    assert fake.token_grants == 1


# -- Login with Amazon failures --------------------------------------------------------------


def test_revoked_refresh_token_is_forbidden_with_a_hint(fake, client):
    client.most_recent_certification(SKILL)
    fake.revoke_refresh_token()
    fake.expire_tokens()

    with pytest.raises(Forbidden) as caught:
        client.most_recent_certification(SKILL)

    assert "rejected the refresh token" in caught.value.message
    assert "invalid_grant" in caught.value.message
    assert "ALEXA_LWA_REFRESH_TOKEN" in caught.value.hint
    assert "ask util generate-lwa-tokens" in caught.value.hint


def test_wrong_refresh_token_is_forbidden_before_any_smapi_call(fake):
    credentials = SmapiCredentials(fake.client_id, fake.client_secret, "Atzr|not-the-token")
    client = SmapiClient(credentials, base_url=fake.base_url, token_url=fake.token_url)

    with pytest.raises(Forbidden, match="refresh token"):
        client.submit_for_certification(SKILL, "v2")

    assert fake.skill(SKILL).submissions == []
    assert [r.path for r in fake.requests] == ["/auth/o2/token"]


def test_wrong_client_secret_is_forbidden_with_a_hint(fake):
    credentials = SmapiCredentials(fake.client_id, "wrong-secret", fake.refresh_token)
    client = SmapiClient(credentials, base_url=fake.base_url, token_url=fake.token_url)

    with pytest.raises(Forbidden) as caught:
        client.most_recent_certification(SKILL)

    assert "client id or client secret" in caught.value.message
    assert "invalid_client" in caught.value.message
    assert "ALEXA_LWA_CLIENT_SECRET" in caught.value.hint


@pytest.mark.parametrize(
    ("status", "error_type", "says"),
    [(500, Unavailable, "HTTP 500"), (503, Unavailable, "HTTP 503"), (429, Busy, "throttling")],
)
def test_login_with_amazon_outages(fake, client, status, error_type, says):
    fake.fail_next("/auth/o2/token", status, {"error": "server_error"})

    with pytest.raises(error_type) as caught:
        client.most_recent_certification(SKILL)

    assert "Login with Amazon" in caught.value.message
    assert says in caught.value.message
    assert caught.value.hint


# -- SMAPI failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error_type", "says", "hint_says"),
    [
        (
            400,
            {
                "message": "Server cannot process the request due to a client error.",
                "violations": [
                    {"code": "MISSING_PRIVACY_POLICY", "message": "Privacy policy URL is missing."}
                ],
            },
            Refused,
            "Privacy policy URL is missing.",
            "Fix what SMAPI names",
        ),
        (
            409,
            {"message": "Another submission is being processed."},
            Refused,
            "Another submission",
            "Fix",
        ),
        (
            403,
            {"message": "Vendor does not have permission."},
            Forbidden,
            "does not allow",
            "generate-lwa-tokens",
        ),
        (404, {"message": "Skill not found."}, NotFound, "Skill not found.", "alexa_skill_id"),
        (429, {"message": "Rate exceeded."}, Busy, "throttling", "Wait a minute"),
        (500, {"message": "Internal Server Error."}, Unavailable, "HTTP 500", "try again"),
        (503, "<html>Service Unavailable</html>", Unavailable, "HTTP 503", "try again"),
    ],
)
def test_smapi_failures_become_errors_a_person_can_act_on(
    fake, client, status, body, error_type, says, hint_says
):
    fake.fail_next("/submit", status, body)

    with pytest.raises(error_type) as caught:
        client.submit_for_certification(SKILL, "v2")

    error = caught.value
    assert f"submit skill {SKILL} for certification" in error.message
    assert says in error.message
    assert hint_says in error.hint
    assert fake.skill(SKILL).submissions == []
    # not retried: a repeated POST could submit twice
    assert len(fake.requests_to("/submit")) == 1


def test_timeout_is_unavailable(fake):
    client = smapi_client(fake, timeout=0.2)
    fake.hang_next("/submit", 5)

    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        client.submit_for_certification(SKILL, "v2")

    assert time.monotonic() - started < 2
    assert "did not answer within 0.2 s" in caught.value.message
    assert "submit skill" in caught.value.message
    assert "check the status first" in caught.value.hint


def test_timeout_of_login_with_amazon_is_unavailable(fake):
    client = smapi_client(fake, timeout=0.2)
    fake.hang_next("/auth/o2/token", 5)

    with pytest.raises(Unavailable, match=r"Login with Amazon .* did not answer"):
        client.most_recent_certification(SKILL)


def test_connection_refused_is_unavailable(fake):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    credentials = SmapiCredentials(fake.client_id, fake.client_secret, fake.refresh_token)
    client = SmapiClient(
        credentials,
        base_url=f"http://127.0.0.1:{closed_port}",
        token_url=f"http://127.0.0.1:{closed_port}/auth/o2/token",
        timeout=1.0,
    )

    with pytest.raises(Unavailable) as caught:
        client.most_recent_certification(SKILL)

    assert "Could not connect to Login with Amazon" in caught.value.message
    assert "ALEXA_LWA_TOKEN_URL" in caught.value.hint


# -- secrets ---------------------------------------------------------------------------------


def test_no_secret_ever_reaches_logs_errors_or_reprs(fake, caplog):
    caplog.set_level(logging.DEBUG)
    client = smapi_client(fake, timeout=0.3)
    shown: list[str] = [repr(client), repr(SmapiCredentials("id", fake.client_secret, "Atzr|x"))]

    def attempt(call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except SkillbotError as error:
            shown.extend([str(error), error.message, error.hint, repr(error)])

    # a whole certification cycle, with every kind of failure on the way
    attempt(client.submit_for_certification, SKILL, "v2")
    attempt(client.most_recent_certification, SKILL)
    fake.expire_tokens()
    attempt(client.most_recent_certification, SKILL)
    attempt(client.publish, SKILL)
    fake.set_certification(SKILL, "SUCCEEDED")
    attempt(client.publish, SKILL)
    attempt(client.live_endpoints, SKILL)
    fake.set_live_endpoint(SKILL, PROD1)
    attempt(client.live_endpoints, SKILL)
    attempt(client.withdraw, SKILL, "OTHER", None)
    # a remote message that echoes credentials is cleaned before it is shown
    echoed = f"bad {fake.refresh_token} {fake.client_secret} {fake.issued_tokens[-1]}"
    fake.fail_next("/submit", 400, {"message": echoed})
    attempt(client.submit_for_certification, SKILL, "v3")
    fake.fail_next("/submit", 500)
    attempt(client.submit_for_certification, SKILL, "v3")
    fake.hang_next("/mostRecent", 5)
    attempt(client.most_recent_certification, SKILL)
    fake.fail_next("/mostRecent", 401, times=2)
    attempt(client.most_recent_certification, SKILL)
    fake.expire_tokens()
    fake.fail_next("/auth/o2/token", 400, {"error": "invalid_grant", "error_description": echoed})
    attempt(client.most_recent_certification, SKILL)
    wrong = SmapiClient(
        SmapiCredentials(fake.client_id, fake.client_secret + "x", fake.refresh_token),
        base_url=fake.base_url,
        token_url=fake.token_url,
    )
    attempt(wrong.most_recent_certification, SKILL)

    secrets_in_play = [fake.client_secret, fake.client_secret + "x", fake.refresh_token]
    secrets_in_play += fake.issued_tokens
    assert len(fake.issued_tokens) >= 3, "the scenario must have used several access tokens"
    assert "SMAPI GET /v1/skills/" in caplog.text, "the client must have logged its calls"
    assert any("<hidden>" in text for text in shown), "the echoed credentials must be cleaned"
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets_in_play:
        assert secret not in logged
        for text in shown:
            assert secret not in text
    assert "Bearer" not in logged
    assert "Authorization" not in logged


def test_credentials_repr_hides_secret_and_refresh_token():
    credentials = SmapiCredentials("amzn1.application-oa2-client.1", "s3cr3t", "Atzr|r3fr3sh")

    shown = repr(credentials) + str(credentials)

    assert "amzn1.application-oa2-client.1" in shown
    assert "s3cr3t" not in shown
    assert "Atzr|r3fr3sh" not in shown
