"""The exit codes of the ``skillbot`` command, one meaning each, for scripts and pipelines:

0 applied, or nothing to do; 1 refused (stale plan, not authorized, a guard, dismissed
or unanswered in Slack); 2 configuration or usage; 3 AWS, Slack or the database did not
answer (retrying is safe); 130 interrupted (Ctrl-C); 141 the output was cut short (stdout
is a pipe whose reader closed it, as in ``skillbot doctor | head -1``).
"""

from __future__ import annotations

from bot.domain.errors import (
    AppliedNotRecorded,
    Busy,
    ConfigError,
    Forbidden,
    SkillbotError,
    Unavailable,
)

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
#: Ctrl-C (the shell's 128 + SIGINT)
EXIT_INTERRUPTED = 130
#: stdout's reader went away (the shell's 128 + SIGPIPE, which Python itself ignores)
EXIT_CLOSED_PIPE = 141

SUMMARY = (
    "exit codes: 0 done (applied, or nothing to do), 1 refused (stale, not authorized, a "
    "guard, dismissed or unanswered), 2 configuration or usage, 3 AWS, Slack or the "
    "database did not answer, 130 interrupted (a plan being applied is finished by "
    "applying it again), 141 the output was cut short (a closed pipe)."
)


class UsageError(ConfigError):
    """The command line itself is wrong (a missing actor, options that exclude each other)."""

    kind = "usage"


def exit_code(err: SkillbotError) -> int:
    """The exit code of an error the use cases raised.

    >>> exit_code(Unavailable("AWS did not answer"))
    3
    """
    if isinstance(err, ConfigError | Forbidden):  # the bot's settings or credentials
        return EXIT_USAGE
    if isinstance(err, Unavailable | Busy):  # transient: the same command may be run again
        return EXIT_UNAVAILABLE
    if isinstance(err, AppliedNotRecorded):  # made in AWS; the database did not answer
        return EXIT_UNAVAILABLE
    return EXIT_REFUSED
