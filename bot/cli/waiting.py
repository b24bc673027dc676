"""``--request``: the plan goes to the skill's Slack channel, where an operator confirms
(or cancels) it with the usual buttons; the command waits for that outcome by reading
the plan's status, and exits with it::

    skillbot hotfix --request --wait 30m   # 0 applied, 1 cancelled, stale, refused or unanswered

A request nobody answers in time is withdrawn: its buttons are replaced by a note, and a
late click can no longer apply a change the pipeline has stopped waiting for.
"""

from __future__ import annotations

import signal
import time
from datetime import timedelta
from types import FrameType
from typing import Any

from bot.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE
from bot.cli.render import Output, event_json
from bot.cli.session import Session
from bot.domain.model import version_label
from bot.service.offers import PlanOffer
from bot.service.requests import PostedRequest

#: how often the plan's status is read while waiting (one small query)
POLL_EVERY = 1.0
#: how long a Confirm already under way when the wait ends may still take
APPLYING_GRACE = 60.0


def duration_label(wait: timedelta) -> str:
    """``30m``, ``90s``, ``2h``: the wait as it was given."""
    seconds = int(wait.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def request_confirmation(
    session: Session, offer: PlanOffer, wait: timedelta | None, out: Output, payload: dict[str, Any]
) -> int:
    requests = session.cases.requests
    posted = requests.post(offer.plan, note=offer.note, offer_submit=offer.offer_submit)
    payload["request"] = {"channel": posted.channel, "ts": posted.ts}
    out.say(f"Posted to Slack channel {posted.channel} for an operator to confirm.")
    if wait is None:
        out.say(
            "Not waiting (--wait DURATION waits for the outcome): the plan is applied when an "
            "operator confirms it in Slack."
        )
        return out.finish({**payload, "outcome": "requested"}, EXIT_OK)
    label = duration_label(wait)
    # a cancelled CI job is sent SIGTERM: stop waiting the same way as on Ctrl-C
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        out.progress(f"Waiting up to {label} for an operator to confirm or cancel it in Slack…")
        return _wait(session, posted, wait, label, out, payload)
    except KeyboardInterrupt:
        withdrawn = requests.withdraw(posted, "The command that asked stopped waiting")
        text = (
            "Stopped waiting: the request in Slack is withdrawn and nothing changed."
            if withdrawn
            else "Stopped waiting; the plan was already being applied or decided: see "
            "skillbot history."
        )
        out.tell(text)
        return out.finish({**payload, "outcome": "interrupted", "message": text}, EXIT_INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait(
    session: Session,
    posted: PostedRequest,
    wait: timedelta,
    label: str,
    out: Output,
    payload: dict[str, Any],
) -> int:
    requests = session.cases.requests
    deadline = time.monotonic() + wait.total_seconds()
    withdrawing = False
    told_interrupted = False
    while True:
        outcome = requests.outcome(posted.plan.id)
        if outcome.decided:
            return _decided(out, payload, outcome)
        if outcome.status == "interrupted" and not told_interrupted:
            told_interrupted = True
            detail = outcome.attempt.detail if outcome.attempt else "a transient failure"
            out.progress(f"A Confirm failed ({detail}); the plan may be confirmed again.")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if withdrawing:
                return _still_applying(out, payload)
            if requests.withdraw(posted, f"Nobody confirmed within {label}"):
                return _unanswered(session, out, payload, label, posted.channel)
            # an operator's Confirm is being applied right now: wait for its end
            withdrawing = True
            deadline = time.monotonic() + APPLYING_GRACE
            continue
        time.sleep(min(POLL_EVERY, remaining))


def _decided(out: Output, payload: dict[str, Any], outcome: Any) -> int:
    attempt = outcome.attempt
    result: dict[str, Any] = {"status": outcome.status}
    if attempt is not None:
        result.update(attempt=event_json(attempt), confirmed_by=attempt.actor)
    if outcome.applied:
        if attempt is not None and attempt.alias:
            old, new = attempt.from_version, attempt.to_version
            moved = f"{attempt.alias} {version_label(old)} → {version_label(new)}"
            result.update(alias=attempt.alias, from_version=old, to_version=new)
            out.say(f"Applied by {attempt.actor}: {attempt.operation} {attempt.skill}: {moved}")
        else:
            out.say("Applied.")
        outcome_name = "applied" if outcome.status == "applied" else "noop"
        return out.finish({**payload, "outcome": outcome_name, "result": result}, EXIT_OK)
    says = {
        "dismissed": "An operator cancelled the plan in Slack; nothing changed.",
        "expired": "The request was withdrawn; nothing changed.",
        "unknown": "The plan is no longer known to the bot's database; nothing changed.",
    }
    text = says.get(outcome.status)
    if text is None:  # stale or refused when confirmed
        why = attempt.detail if attempt else outcome.status
        text = f"The plan was refused when confirmed ({outcome.status}): {why}"
    out.tell(text)
    return out.finish({**payload, "outcome": outcome.status, "result": result}, EXIT_REFUSED)


def _unanswered(
    session: Session, out: Output, payload: dict[str, Any], label: str, channel: str
) -> int:
    operators = ", ".join(session.config.operators)
    text = (
        f"Nobody confirmed the plan within {label}: the request in Slack channel {channel} "
        "is withdrawn and nothing changed."
    )
    hint = (
        f"Ask an operator ({operators}) to watch that channel and run the command again, "
        "or give --wait more time."
    )
    return _told(out, payload, "timeout", text, hint, EXIT_REFUSED)


def _still_applying(out: Output, payload: dict[str, Any]) -> int:
    text = (
        "An operator's Confirm is still being applied after the wait ended; its outcome is "
        "not known yet."
    )
    hint = "See skillbot history or the skill's Slack channel in a minute; nothing is retried."
    return _told(out, payload, "unknown", text, hint, EXIT_UNAVAILABLE)


def _told(
    out: Output, payload: dict[str, Any], outcome: str, text: str, hint: str, code: int
) -> int:
    out.tell(text)
    out.tell(hint)
    return out.finish({**payload, "outcome": outcome, "message": text, "hint": hint}, code)
