"""The only place that reads the environment, ``.env`` and the skills file (SPEC §5).

- :mod:`.settings`: environment variables (and ``.env``) read by pydantic-settings; the
  ``AWS_*`` lines of ``.env`` exported for boto3; the CD pipeline a command runs in;
- :mod:`.skills_file`: the TOML skills file validated by pydantic models;
- :mod:`.start`: everything wrong with a start (or a command), named at once.

Anything wrong raises :class:`~bot.domain.errors.ConfigError` naming the file or variable,
the key and the problem::

    settings = load_settings()            # os.environ + .env
    skills = load_skills_file(settings.skillbot_config)
"""

from bot.config.settings import ENV_HINT, Settings, load_settings, pipeline_run
from bot.config.skills_file import SkillsFile, load_skills_file, parse_skills
from bot.config.start import EXAMPLE_IDS, START_HINT, all_problems, load_for_start

__all__ = [
    "ENV_HINT",
    "EXAMPLE_IDS",
    "START_HINT",
    "Settings",
    "SkillsFile",
    "all_problems",
    "load_for_start",
    "load_settings",
    "load_skills_file",
    "parse_skills",
    "pipeline_run",
]
