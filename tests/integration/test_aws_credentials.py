"""Credentials AWS refuses (expired, wrong, mis-signed) say so and how to refresh them,
from every Lambda call; nothing points at AWS Health for them."""

from __future__ import annotations

import pytest

from bot.domain.errors import SkillbotError

FN = "trivia-skill"
REFUSED_CREDENTIALS = [
    ("ExpiredTokenException", "The security token included in the request is expired", 403),
    ("ExpiredToken", "The security token included in the request is expired", 400),
    ("InvalidClientTokenId", "The security token included in the request is invalid.", 403),
    ("UnrecognizedClientException", "The security token included in the request is invalid.", 403),
    ("InvalidSignatureException", "The request signature we calculated does not match", 403),
    ("SignatureDoesNotMatch", "The request signature we calculated does not match", 403),
]


@pytest.mark.parametrize(("code", "message", "status"), REFUSED_CREDENTIALS)
def test_refused_credentials_say_how_to_refresh_them(stubbed, code, message, status):
    lam, stub = stubbed
    stub.add_client_error("get_alias", code, message, status)
    with pytest.raises(SkillbotError) as err:
        lam.get_alias(FN, "PROD1")
    said = str(err.value)
    assert "AWS Health" not in said and "iam-policy.json" not in said, said
    assert "expired or wrong" in err.value.message and code in err.value.message
    assert "aws sso login" in err.value.hint and "AWS_SESSION_TOKEN" in err.value.hint
    assert "Nothing was changed" in err.value.hint
