"""Two replicas' outboxes over one database (a SQLite file, PostgreSQL) race for the same
rows while Slack refuses some posts: every message is posted exactly once, every update
made after its message, none lost."""

from __future__ import annotations

import threading
from collections import Counter

from bot.adapters.slack.notifier import SlackPresenter
from bot.adapters.store import open_store
from bot.domain.errors import Unavailable
from bot.service.outbox import Outbox
from tests.support.fakes import FakeNotifier

MESSAGES = 60


def url_of(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_two_replicas_racing_send_each_message_once(store, clock):
    other_store = open_store(url_of(store))
    slack = FakeNotifier()
    # the first eight posts refused: they wait their pause, then either replica takes them
    slack.refuse(Unavailable("Slack: could not post (service_unavailable)."), times=8)
    replicas = [
        Outbox(s, slack, SlackPresenter(), clock, owner=name)
        for s, name in ((store, "first"), (other_store, "second"))
    ]
    first = replicas[0]
    first.owe(
        [first.post(f"announce:{i}", "C0TRIVIA", f"change {i}") for i in range(MESSAGES)]
        + [first.update("C0TRIVIA", f"change {i}, updated", of=f"announce:{i}") for i in range(10)]
    )
    try:
        for _ in range(12):  # passes at the same time on both, then time moves on
            start = threading.Barrier(2)

            def run(box: Outbox, start: threading.Barrier = start) -> None:
                start.wait()
                box.run()

            threads = [threading.Thread(target=run, args=(box,)) for box in replicas]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            clock.advance(seconds=10)
    finally:
        other_store.close()

    posts = Counter(p.key for p in slack.posted)
    assert posts == Counter({f"announce:{i}": 1 for i in range(MESSAGES)})
    ts_of = {p.key: p.ts for p in slack.posted}
    assert sorted((u.ts, u.text) for u in slack.updated) == sorted(
        (ts_of[f"announce:{i}"], f"change {i}, updated") for i in range(10)
    )
    assert store.owed_in("owed") == []
