"""The worker processes of :mod:`planner.migration.cleaning`: a slice of a column's distinct
values cleaned by :func:`planner.migration.transforms.cleaner` (the one implementation of each
transformation), in this process or in spawned ones."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from planner.migration import transforms
from planner.migration.fields import Field

if TYPE_CHECKING:
    from planner.migration.recipe import Rule


# One slice of distinct values to clean: field i's rule and field, the recipe's region, whether
# the rules read one column (then values left as they are are left out), and the values (a
# list per source column). Its outcomes: the values kept (their place in the slice) and, per
# field i, their value, problem kind, message and whether it changed.
Task = tuple[tuple[tuple[int, "Rule", Field], ...], str, bool, list[list[str | None]]]
Outcomes = tuple[list[int], dict[int, tuple[list[Any], list[Any], list[Any], list[bool]]]]


def outcomes(task: Task) -> Outcomes:
    """A slice of distinct values cleaned (:data:`Task`), here or in a worker process."""
    rules, region, single, cells = task
    cleaners = [(i, transforms.cleaner(rule, field, region)) for i, rule, field in rules]
    kept: list[int] = []
    found: dict[int, tuple[list[Any], list[Any], list[Any], list[bool]]] = {
        i: ([], [], [], []) for i, _ in cleaners
    }
    for n, values in enumerate(zip(*cells, strict=True)):
        outcomes = [(i, run(values)) for i, run in cleaners]
        if single and all(o.kind is None and o.value == values[0] for _, o in outcomes):
            continue
        kept.append(n)
        for i, o in outcomes:
            value, kind, text, changed = found[i]
            value.append(o.value)
            kind.append(o.kind)
            text.append(o.problem)
            changed.append(o.changed)
    return kept, found


class Workers:
    """``processes`` processes that clean the distinct values of a column when it has at
    least ``threshold`` of them, started (spawned: polars and fork do not mix) on first use
    and stopped by :meth:`close`; fewer values are cleaned in this process, and all of them
    when ``processes`` is below 2."""

    def __init__(self, processes: int, threshold: int) -> None:
        self.processes, self.threshold = processes, threshold
        self.pool: ProcessPoolExecutor | None = None

    def map(self, tasks: Iterator[Task], values: int) -> Iterator[Outcomes]:
        """The outcomes of ``tasks``, in order; ``values``: how many values they hold."""
        if self.processes < 2 or values < self.threshold:
            return map(outcomes, tasks)
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
        return self._spread(self.pool, tasks)

    def _spread(self, pool: ProcessPoolExecutor, tasks: Iterator[Task]) -> Iterator[Outcomes]:
        running: deque[Future[Outcomes]] = deque()
        for task in tasks:  # a few slices at a time, so that memory follows a slice
            running.append(pool.submit(outcomes, task))
            if len(running) > self.processes:
                yield running.popleft().result()
        while running:
            yield running.popleft().result()

    def close(self) -> None:
        """Stop the processes, if any were started."""
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
