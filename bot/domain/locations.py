"""Where in AWS a function is looked for, in words (for a person who must find it).

>>> function_location("trivia-skill", "us-east-1", "123456789012")
'in region us-east-1, account 123456789012'
>>> function_location("arn:aws:lambda:eu-west-1:210987654321:function:quiz", "us-east-1", None)
'in region eu-west-1, account 210987654321'
"""

from __future__ import annotations


def function_location(function: str, region: str | None, account: str | None) -> str:
    """A function ARN names its own region and account; a bare name is looked for in
    the client's region, in the credentials' account."""
    parts = function.split(":")
    if function.startswith("arn:") and len(parts) >= 5:
        region, account = parts[3] or region, parts[4] or account
    return f"in region {region or 'unknown'}, account {account or 'unknown'}"
