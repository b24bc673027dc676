"""The one place where Slack ids (command, action ids, event types) meet their listeners.

Each listener acks at once (Slack's 3-second limit), then calls one use case in a Bolt
lazy listener, so AWS or the database never delay the acknowledgement, and replies::

    app = build_app(cases, runtime)      # bot.bootstrap's Bolt app with every listener
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App

from bot.adapters.slack import kit
from bot.bootstrap import Runtime, UseCases, bolt_app
from handlers.actions import PlanButtons
from handlers.commands import SkillCommand
from handlers.events import AppHome, ReactionPromotion
from handlers.unhandled import Unhandled

ANYTHING = re.compile(r".*", re.DOTALL)


def ack_only(ack: Ack) -> None:
    """The ack of a listener whose answer comes after it (buttons, events)."""
    ack()


def register(app: App, cases: UseCases) -> None:
    command = SkillCommand(cases)
    app.command("/skill")(ack=command.ack, lazy=[command.run])

    buttons = PlanButtons(cases)
    app.action(kit.CONFIRM)(ack=ack_only, lazy=[buttons.confirm])
    app.action(kit.CONFIRM_AND_SUBMIT)(ack=ack_only, lazy=[buttons.confirm])
    app.action(kit.DISMISS)(ack=ack_only, lazy=[buttons.dismiss])
    app.action(kit.FIX_ALL)(ack=ack_only, lazy=[buttons.fix_all])
    app.action(kit.CONFIRM_CANARY)(ack=ack_only, lazy=[buttons.confirm])
    app.action(kit.CANARY_COMPLETE)(ack=ack_only, lazy=[buttons.end_canary])
    app.action(kit.CANARY_ABORT)(ack=ack_only, lazy=[buttons.end_canary])
    app.action(kit.ROLLBACK_OFFER)(ack=ack_only, lazy=[buttons.rollback_offer])

    home = AppHome(cases)
    app.event("app_home_opened")(ack=ack_only, lazy=[home.opened])

    reactions = ReactionPromotion(cases)
    app.event("reaction_added")(ack=ack_only, lazy=[reactions.added])
    app.event("reaction_removed")(ack=ack_only, lazy=[reactions.removed])

    # last: Bolt tries listeners in order, so these only get what nothing above handles
    unhandled = Unhandled()
    app.event(ANYTHING)(unhandled.event)
    app.command(ANYTHING)(unhandled.command)
    app.action(ANYTHING)(unhandled.action)
    app.shortcut(ANYTHING)(unhandled.other)
    app.view(ANYTHING)(unhandled.other)


def build_app(cases: UseCases, runtime: Runtime) -> App:
    """The Bolt app of :func:`bot.bootstrap.bolt_app` with every listener registered."""
    app = bolt_app(runtime)
    register(app, cases)
    return app
