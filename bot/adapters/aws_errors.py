"""AWS errors as errors a person can act on: every ``ClientError`` (and botocore's own
failures) becomes a :mod:`bot.domain.errors` error that says what to do::

    with aws_errors("move alias PROD1", "trivia-skill"):
        client.update_alias(...)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from bot.domain.errors import (
    Busy,
    Forbidden,
    NotFound,
    Refused,
    SkillbotError,
    StalePlan,
    Unavailable,
)
from bot.domain.words import Run, words

log = logging.getLogger("bot.adapters.lambda_aws")


#: what AWS answers when the credentials themselves are expired, unknown or mis-signed
CREDENTIALS_REFUSED = frozenset(
    {
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)


def refused_credentials(code: str, message: str, action: str) -> Forbidden:
    """The error for credentials AWS does not accept: say so, and how to refresh them."""
    return Forbidden(
        f"AWS refused the bot's credentials for {action}: they are expired or wrong "
        f"({code}: {message}).",
        hint="Nothing was changed. Refresh them: `aws sso login` for an SSO profile, a new "
        "AWS_SESSION_TOKEN for temporary keys, or check the role the bot runs as and "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; then try again.",
    )


@contextmanager
def aws_errors(action: str, function: str) -> Iterator[None]:
    """Turn what boto3 raises during ``action`` into a domain error."""
    try:
        yield
    except ClientError as err:
        raise _client_error(err, action, function) from err
    except NoCredentialsError as err:
        raise Forbidden(
            "No AWS credentials found.",
            hint="Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on a role.",
        ) from err
    except (ReadTimeoutError, BotoConnectionError) as err:
        raise Unavailable(
            f"AWS did not answer {action} on {function} in time ({type(err).__name__}).",
            hint="The outcome is checked before anything else moves; try again shortly.",
        ) from err
    except BotoCoreError as err:
        raise Unavailable(
            f"Calling AWS for {action} on {function} failed: {err}",
            hint="Try again; check the AWS region and endpoint settings.",
        ) from err


def _client_error(err: ClientError, action: str, function: str) -> SkillbotError:
    """The domain error of an error answer from AWS."""
    error = err.response.get("Error", {})
    code, msg = str(error.get("Code", "")), str(error.get("Message", "")) or str(err)
    # a missing alias or policy is often the answer we look for, not a failure
    level = logging.DEBUG if code == "ResourceNotFoundException" else logging.WARNING
    log.log(level, "lambda %s on %s failed: %s %s", action, function, code, msg)
    if code in CREDENTIALS_REFUSED:
        return refused_credentials(code, msg, f"{action} on {function}")
    if code == "ResourceNotFoundException":
        return NotFound(
            f"AWS says {function} has no such resource ({action}): {msg}",
            hint=words(
                "Check `function` and `aliases` in the skills file, or run ",
                Run("doctor"),
                " to create what is missing.",
            ),
        )
    if code == "PreconditionFailedException":
        return StalePlan(
            f"The alias changed in AWS after the plan was shown ({action} refused: {msg}).",
            hint="Nothing was changed. Ask for a fresh plan and confirm that one.",
        )
    if code == "InvalidParameterValueException" and "CodeSha256" in msg:
        return StalePlan(
            f"The code in $LATEST changed since this plan was shown ({action} of "
            f"{function} refused: {msg}).",
            hint="Nothing was published. Ask for a fresh plan to see the new code.",
        )
    if code in ("ResourceConflictException", "ConflictException"):
        return Busy(
            f"AWS is still applying another change to {function} ({msg}).",
            hint="Nothing was changed by skillbot. Try again in a minute.",
        )
    if code in ("TooManyRequestsException", "ThrottlingException"):
        return Unavailable(
            f"AWS throttled {action} on {function} even after retries.",
            hint="Nothing was changed. Try again in a minute.",
        )
    if code in ("AccessDeniedException", "AccessDenied"):
        return Forbidden(
            f"The bot's AWS credentials may not {action} on {function}: {msg}",
            hint="Grant the permissions of iam-policy.json to the bot's role.",
        )
    if code in ("InvalidParameterValueException", "ValidationException"):
        return Refused(
            f"AWS refused {action} on {function}: {msg}",
            hint="Nothing was changed; check the skills file.",
        )
    return Unavailable(
        f"AWS failed {action} on {function}: {code or 'error'} {msg}",
        hint="Nothing was changed by skillbot. Try again; if it persists, check AWS Health.",
    )
