"""The App Home tab: every skill's status, refreshed for its viewers after each change."""

from __future__ import annotations

import threading
from dataclasses import KW_ONLY, dataclass, field

from bot.domain.errors import SkillbotError
from bot.domain.news import HomeView
from bot.domain.words import words
from bot.service.announcing import ReviewStatus, no_review
from bot.service.outbox import Outbox
from bot.service.reading import Reading


@dataclass(eq=False)
class HomeTab:
    reading: Reading
    outbox: Outbox
    _: KW_ONLY
    always_shown_to: list[str]
    region: str | None
    review_status: ReviewStatus = no_review
    viewers: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def opened(self, user: str) -> None:
        """Someone opened the tab: show it, and keep it fresh for them."""
        with self._lock:
            self.viewers.add(user)
        self.publish([user])

    def refresh(self) -> None:
        """Publish the tab again to everyone who sees it (after any change)."""
        with self._lock:
            users = self.viewers | set(self.always_shown_to)
        self.publish(sorted(users))

    def view(self) -> HomeView:
        statuses, errors = [], []
        for name in sorted(self.reading.ctx.skills):
            try:
                view = self.reading.status(name)
            except SkillbotError as err:
                errors.append(words(f"{name}: ", err.told))
                continue
            statuses.append((view, self.review_status(view.pending) if view.pending else None))
        return HomeView(tuple(statuses), tuple(errors), self.region)

    def publish(self, users: list[str]) -> None:
        if not users:
            return
        view = self.view()
        # one row per person: a Home owed again replaces the one still owed
        self.outbox.send(*(self.outbox.home(user, view) for user in users))
