"""The Slack users of the tests, by the part they play."""

from __future__ import annotations

OPERATOR = "U0ALICE"
#: a second operator, so that "another operator" differs from the one acting
SECOND_OPERATOR = "U0BOB"
APPROVER = "U0CAROL"
#: in the workspace, but neither operator nor approver
STRANGER = "U0MALLORY"
#: who asked for a certification (an operator)
REQUESTER = OPERATOR
