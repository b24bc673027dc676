"""A start names every problem at once: missing variables, placeholders left from
``.env.example``, what the AWS chain lacks (the start's check, passed in: ``bot.config``
never asks boto3), and the example skills file's values; :func:`all_problems` is the one
error a start or a command raises for them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot.config.settings import ENV_HINT, Settings, load_settings
from bot.config.skills_file import SkillsFile, load_skills_file
from bot.domain.errors import ConfigError
from bot.domain.words import Words, words

# -- a start: every problem at once ---------------------------------------------------------

#: the Slack ids of skillbot.example.toml: the local stand-ins' people and channels, which
#: no real workspace has, so with Slack's own API they mean the example was not filled in
EXAMPLE_IDS = frozenset({"U0ALICE", "U0BOB", "U0CAROL", "C0ANNOUNCE", "C0TRIVIA"})
EXAMPLE_SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
START_HINT = ENV_HINT + " skillbot.example.toml describes the skills file."
_DOTENV = ".env or the environment"


def _placeholder(value: str | None) -> bool:
    # .env.example's placeholders end in "..." (xoxb-..., xapp-..., Atzr|...)
    return value is not None and "..." in value


def talks_to_slack_itself(settings: Settings) -> bool:
    host = urlsplit(settings.slack_api_url).hostname or ""
    return host == "slack.com" or host.endswith(".slack.com")


def settings_problems(settings: Settings, role: str) -> list[str]:
    """Every required variable the role lacks and every placeholder left in place."""
    problems = []
    token = settings.slack_bot_token
    if not token:
        problems.append(
            f"SLACK_BOT_TOKEN is missing: set it in {_DOTENV} (the Slack app's OAuth & "
            "Permissions page, Bot User OAuth Token, xoxb-…)."
        )
    elif _placeholder(token):
        problems.append(
            f"SLACK_BOT_TOKEN in {_DOTENV} is still .env.example's placeholder {token!r}: "
            "replace it with the Bot User OAuth Token (the app's OAuth & Permissions page)."
        )
    if role != "scheduler":
        if settings.socket_mode:
            app_token = settings.slack_app_token or ""
            if _placeholder(app_token) or not app_token.startswith("xapp-"):
                problems.append(
                    f"SLACK_APP_TOKEN in {_DOTENV} must be an app-level token starting with "
                    "xapp- (the app's Basic Information > App-Level Tokens, scope "
                    "connections:write); unset it to use HTTP mode."
                )
        elif not settings.slack_signing_secret:
            problems.append(
                f"SLACK_SIGNING_SECRET is missing (HTTP mode needs it): set it in {_DOTENV} "
                "from the app's Basic Information > App Credentials, or set SLACK_APP_TOKEN "
                "for Socket Mode."
            )
    for name in ("slack_signing_secret", *(f for f in Settings.model_fields if "alexa" in f)):
        if _placeholder(getattr(settings, name)):
            problems.append(
                f"{name.upper()} in {_DOTENV} is still .env.example's placeholder: set the "
                "real value, or comment the line out."
            )
    return problems


def example_values(config: SkillsFile, source: str, *, slack_itself: bool) -> list[str]:
    """The example file's values still in ``config``: the all-zero skill id always; its
    Slack ids only when the bot talks to Slack itself (the stand-ins know them)."""
    problems = [
        f"{source}: skills.{name}.alexa_skill_id is the example's all-zero id: set the "
        "skill's id (Alexa developer console > your skill > Copy Skill ID)."
        for name, entry in config.skills.items()
        if entry.alexa_skill_id == EXAMPLE_SKILL_ID
    ]
    if not slack_itself:
        return problems
    for key, ids in (("operators", config.operators), ("approvers", config.approvers)):
        if shown := [i for i in ids if i in EXAMPLE_IDS]:
            problems.append(
                f"{source}: {key} {', '.join(shown)}: the example's people, not members of "
                "your workspace; put their Slack member ids (a profile > ⋮ > Copy member ID)."
            )
    channels = {"announce_channel": config.announce_channel}
    channels |= {f"skills.{n}.channel": e.channel for n, e in config.skills.items() if e.channel}
    for key, channel in channels.items():
        if channel in EXAMPLE_IDS:
            problems.append(
                f"{source}: {key} {channel}: the example's channel; put your channel's id "
                "(the channel's details, at the bottom)."
            )
    return problems


def all_problems(problems: Sequence[str | Words], hint: str | Words) -> ConfigError:
    """One error naming every problem, each with what to do: one as itself, several as
    a list.

    >>> print(all_problems(["SKILLBOT_CONFIG is missing.", "DATABASE_URL is wrong."], "").message)
    2 problems:
      - SKILLBOT_CONFIG is missing.
      - DATABASE_URL is wrong.
    """
    if len(problems) == 1:
        return ConfigError(problems[0], hint=hint)
    listed = words(f"{len(problems)} problems:", *(words("\n  - ", p) for p in problems))
    return ConfigError(listed, hint=hint)


def load_for_start(
    role: str,
    env_file: str | Path | None = ".env",
    *,
    aws_problems: Callable[[str | None], list[str]] | None = None,
) -> tuple[Settings, SkillsFile]:
    """Settings and skills file for a start as ``role`` (all, web, scheduler), or one
    :class:`ConfigError` naming every problem with where to fix it; ``aws_problems(region)``
    adds what the AWS chain lacks, read after ``.env``'s ``AWS_*`` lines are exported."""
    try:
        settings = load_settings(env_file)
    except ConfigError as err:
        raise ConfigError(err.message, hint=START_HINT) from None
    problems = settings_problems(settings, role)
    if aws_problems is not None:
        problems += aws_problems(settings.aws_region)
    config: SkillsFile | None = None
    try:
        config = load_skills_file(settings.skillbot_config)
    except ConfigError as err:
        problems.append(f"{err.message} {err.hint}")
    else:
        problems += example_values(
            config, settings.skillbot_config, slack_itself=talks_to_slack_itself(settings)
        )
    if problems or config is None:
        raise all_problems(problems, START_HINT)
    return settings, config
