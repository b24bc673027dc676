"""One call per region, side by side, and errors that say which region they came from.

A skill served from several regions makes each step's calls (read, publish, move, set or
clear weights) in every region at once::

    futures = run_each(pool, lambda move: lam.get_alias(move.function, "PROD1"), moves)
    raise in_region(futures[1].exception(), "EU")    # "EU: Rate exceeded …"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from bot.domain.errors import SkillbotError
from bot.domain.words import words

T = TypeVar("T")
R = TypeVar("R")


def in_region(err: BaseException, region: str) -> SkillbotError:
    """The same error, its message saying which region it came from ("": no region)."""
    if not isinstance(err, SkillbotError):
        err = SkillbotError(f"internal error: {err!r}")
    if not region or err.message.startswith(f"{region}: "):
        return err
    named = type(err)(
        words(f"{region}: ", err.said),
        hint=err.todo,
        retry_after=err.retry_after,
        outcome_unknown=err.outcome_unknown,
    )
    named.__cause__ = err
    return named


def run_each(
    pool: ThreadPoolExecutor, work: Callable[[T], R], items: Iterable[T]
) -> list[Future[R]]:
    """``work`` on every item side by side; returns once every one has ended."""
    futures = [pool.submit(work, item) for item in items]
    for future in futures:
        future.exception()  # wait for every one, failed or not
    return futures


def each(
    pool: ThreadPoolExecutor,
    work: Callable[[T], R],
    items: Sequence[T],
    region: Callable[[T], str],
) -> list[R]:
    """``work``'s results on every item, side by side; the first error (in the items'
    order) is raised, named by its item's ``region``."""
    futures = run_each(pool, work, items)
    for item, future in zip(items, futures, strict=True):
        error = future.exception()
        if error is not None:
            named = in_region(error, region(item))
            if named is error:
                raise error
            raise named from error
    return [future.result() for future in futures]
