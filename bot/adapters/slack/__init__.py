"""Slack: the one presenter (``slack_sdk.models.blocks``, values in and ``(text, blocks)``
out) and the notifier that posts what the services report with it.

:mod:`.kit` holds the action ids and the building blocks, :mod:`.plans` what a command
answers, :mod:`.messages` what is posted in a skill's channel, :mod:`.reports` the status,
history and App Home, :mod:`.notifier` the Web API calls.
"""
