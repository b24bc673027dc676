"""The use cases, over the ports in :mod:`bot.ports`; each finishes its own job.

- :mod:`~bot.service.context`: the skills, roles and the audit trail every use case shares;
- :mod:`~bot.service.access`: who may do what;
- :mod:`~bot.service.reading`: status and history;
- :mod:`~bot.service.planning`: plans (hotfix, certify, rollback, cancel) and doctor;
- :mod:`~bot.service.applying`: a confirmed plan applied once, recorded, announced;
- :mod:`~bot.service.promotion`: an approver's promotion (command or reaction);
- :mod:`~bot.service.announcing`: what Slack sees of a change;
- :mod:`~bot.service.home`: the App Home tab;
- :mod:`~bot.service.reminders`: reminder passes and deliveries;
- :mod:`~bot.service.alexa`: Alexa's side (SMAPI): submit, review status, publish, withdraw;
- :mod:`~bot.service.recovery`: what a crash left behind;
- :mod:`~bot.service.offers`: plans as the faces offer them (notes, canary twin, submit).

Services import the domain and the ports; never an adapter or Slack: what they tell Slack
is news (:mod:`bot.domain.news`), which the Slack adapter renders.
"""
