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
from bot.domain.words import Code, Run, Typed, words

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


def refused_credentials(code: str, message: str | Typed, action: str) -> Forbidden:
    """The error for credentials AWS does not accept: say so, and how to refresh them."""
    said = message if isinstance(message, Typed) else from_aws(message)
    return Forbidden(
        words(
            f"AWS refused the bot's credentials for {action}: they are expired or wrong ({code}: ",
            said,
            ").",
        ),
        hint=words(
            "Nothing was changed. Refresh them: ",
            Code("aws sso login"),
            " for an SSO profile, a new AWS_SESSION_TOKEN for temporary keys, or check the "
            "role the bot runs as and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; then try again.",
        ),
    )


#: how much of AWS's own error text a message quotes
AWS_TEXT_MAX = 200


def from_aws(text: str) -> Typed:
    """AWS's error text as a person reads it: one line, cut to a readable length, shown
    as text (never markup); an HTML error page (a proxy's or a load balancer's) is named,
    not pasted.

    >>> from_aws("<!DOCTYPE html><html><body>404 Not Found</body></html>").text
    'an HTML error page instead of an AWS answer'
    >>> from_aws("Alias   not\\n found").text
    'Alias not found'
    """
    one_line = " ".join(text.split())
    if "<html" in one_line.lower() or "<!doctype html" in one_line.lower():
        return Typed("an HTML error page instead of an AWS answer")
    if len(one_line) > AWS_TEXT_MAX:
        one_line = one_line[: AWS_TEXT_MAX - 1] + "…"
    return Typed(one_line)


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
    said = from_aws(msg)  # AWS's words, quoted: one line, cut, never markup or HTML
    # a missing alias or policy is often the answer we look for, not a failure
    level = logging.DEBUG if code == "ResourceNotFoundException" else logging.WARNING
    log.log(level, "lambda %s on %s failed: %s %s", action, function, code, said.text)
    if code in CREDENTIALS_REFUSED:
        return refused_credentials(code, said, f"{action} on {function}")
    if code == "ResourceNotFoundException":
        return NotFound(
            words(f"AWS says {function} has no such resource ({action}): ", said),
            hint=words(
                "Check ",
                Code("function"),
                " and ",
                Code("aliases"),
                " in the skills file, or run ",
                Run("doctor"),
                " to create what is missing.",
            ),
        )
    if code == "PreconditionFailedException":
        return StalePlan(
            words(
                f"The alias changed in AWS after the plan was shown ({action} refused: ", said, ")."
            ),
            hint="Nothing was changed. Ask for a fresh plan and confirm that one.",
        )
    if code == "InvalidParameterValueException" and "CodeSha256" in msg:
        return StalePlan(
            words(
                f"The code in $LATEST changed since this plan was shown ({action} of "
                f"{function} refused: ",
                said,
                ").",
            ),
            hint="Nothing was published. Ask for a fresh plan to see the new code.",
        )
    if code in ("ResourceConflictException", "ConflictException"):
        return Busy(
            words(f"AWS is still applying another change to {function} (", said, ")."),
            hint="Nothing was changed by skillbot. Try again in a minute.",
        )
    if code in ("TooManyRequestsException", "ThrottlingException"):
        return Unavailable(
            f"AWS throttled {action} on {function} even after retries.",
            hint="Nothing was changed. Try again in a minute.",
        )
    if code in ("AccessDeniedException", "AccessDenied"):
        return Forbidden(
            words(f"The bot's AWS credentials may not {action} on {function}: ", said),
            hint="Grant the permissions of iam-policy.json to the bot's role.",
        )
    if code in ("InvalidParameterValueException", "ValidationException"):
        return Refused(
            words(f"AWS refused {action} on {function}: ", said),
            hint="Nothing was changed; check the skills file.",
        )
    return Unavailable(
        words(f"AWS failed to {action} on {function}: {code or 'error'} ", said),
        hint="Nothing was changed by skillbot. Try again; if it persists, check AWS Health.",
    )
