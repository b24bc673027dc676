"""Start skillbot: ``python -m bot [all|web|scheduler]``, as ``skillbot run`` does.

- ``all`` (default): Slack listener and reminder scheduler in one process;
- ``web``: only the Slack listener (several replicas behind a load balancer);
- ``scheduler``: only the scheduler (one process beside ``web`` replicas);
- ``demo``: the real bot against an embedded AWS and a Slack-like page (``demo --help``).

The Slack listener uses Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP on ``PORT``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """``python -m bot ROLE`` is ``skillbot run ROLE``; ``python -m bot demo …`` is
    ``skillbot demo …``."""
    from bot.cli import main as skillbot

    argv = list(sys.argv[1:] if argv is None else argv)
    return skillbot(argv if argv[:1] == ["demo"] else ["run", *argv])


if __name__ == "__main__":
    sys.exit(main())
