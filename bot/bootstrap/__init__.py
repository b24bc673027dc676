"""The composition root: every object of the running bot is built here, by constructor
arguments, and nowhere else (nothing is created at import time anywhere in ``bot``).

- :mod:`.wiring`: :func:`compose` wires every use case over the ports it is given and
  returns them (what the faces call) with the runtime (pools, closers, the scheduler's jobs);
- :mod:`.real`: :func:`build_services` builds the real adapters from settings first;
- :mod:`.scheduling`: :func:`start_scheduler` starts the reminders and maintenance tasks.

``__main__`` and the tests call these with settings (and, in tests, fakes in place of the
real clients); the entry point then starts what its role needs::

    cases, runtime = build_services(load_settings(), load_skills_file("skillbot.toml"))
    app = bolt_app(runtime)               # handlers.register(app, cases) adds listeners
    stop = start_scheduler(runtime)       # reminders, recovery, the outbox, canaries
"""

from bot.bootstrap.real import build_services
from bot.bootstrap.scheduling import start_scheduler
from bot.bootstrap.wiring import Composed, Runtime, UseCases, bolt_app, compose

__all__ = [
    "Composed",
    "Runtime",
    "UseCases",
    "bolt_app",
    "build_services",
    "compose",
    "start_scheduler",
]
