"""The one place where Slack ids (command, action ids, event types) meet their handlers.

Each listener acks at once (Slack's 3-second limit) and does its work in a Bolt lazy
listener, so AWS or the database never delay the acknowledgement::

    register(app, services)
"""

from __future__ import annotations

from slack_bolt import App

from bot import blocks
from bot.wiring import Services
from handlers.actions import PlanButtons
from handlers.commands import SkillCommand
from handlers.events import AppHome, ReactionPromotion


def register(app: App, services: Services) -> None:
    command = SkillCommand(services)
    app.command("/skill")(ack=command.ack, lazy=[command.run])

    buttons = PlanButtons(services)
    app.action(blocks.CONFIRM)(ack=buttons.ack, lazy=[buttons.confirm])
    app.action(blocks.CONFIRM_AND_SUBMIT)(ack=buttons.ack, lazy=[buttons.confirm_and_submit])
    app.action(blocks.DISMISS)(ack=buttons.ack, lazy=[buttons.dismiss])
    app.action(blocks.FIX_ALL)(ack=buttons.ack, lazy=[buttons.fix_all])

    home = AppHome(services)
    services.announcer.after_change.append(home.refresh_after_change)
    app.event("app_home_opened")(ack=home.ack, lazy=[home.opened])

    reactions = ReactionPromotion(services, home)
    app.event("reaction_added")(ack=reactions.ack, lazy=[reactions.added])
