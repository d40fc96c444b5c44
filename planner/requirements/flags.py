"""What needs a look in the register, as pure functions on plain values (no Flask, no session):
a requirement serving no goal, a must-have without an acceptance criterion, a title nearly the
same as another's, a goal no requirement serves."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

# Titles at least this similar (0-100, rapidfuzz's ratio of normalised titles) are
# flagged as near-identical: "Track customer calls in real time" and "Real-time tracking of
# customer calls" are not; "Track customer calls in real time" and "Track customer calls in
# real-time." are.
NEAR_IDENTICAL = 92.0


def normalise_title(title: str) -> str:
    """The comparison form of a title: NFKC, case-folded, punctuation as spaces, one space."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def near_identical(
    keys: Mapping[int, str], ids: Iterable[int], threshold: float = NEAR_IDENTICAL
) -> dict[int, tuple[int, float]]:
    """For each of ``ids``, the most similar other requirement of ``keys`` (id -> title as
    :func:`normalise_title` gives it, stored with each requirement) if its title is
    near-identical: ``{id: (other_id, similarity)}``.

    Two measures: the words in any order (the ratio of the sorted words: "calls in real time"
    and "real time calls in" are one), and the characters with the spaces taken out (for
    scripts written without spaces, such as Chinese, where "48 小时" and "48小时" are one
    title). Both in one call each of rapidfuzz's ``cdist`` (C code, len(ids) × len(keys)
    comparisons: a page of 25 against 2,000 titles in a few milliseconds).
    """
    wanted = [rid for rid in dict.fromkeys(ids) if keys.get(rid)]
    if not wanted:
        return {}
    others = [rid for rid, key in keys.items() if key]
    sorted_words = {rid: " ".join(sorted(keys[rid].split())) for rid in others}
    letters = {rid: keys[rid].replace(" ", "") for rid in others}
    best: dict[int, tuple[int, float]] = {}
    for table in (sorted_words, letters):
        scores = process.cdist(
            [table[rid] for rid in wanted],
            [table[rid] for rid in others],
            scorer=fuzz.ratio,
            score_cutoff=threshold,
            dtype="float32",
        )
        for i, rid in enumerate(wanted):
            row = scores[i]
            for j in row.nonzero()[0]:
                other, score = others[int(j)], float(row[j])
                if other != rid and (rid not in best or score > best[rid][1]):
                    best[rid] = (other, round(score, 1))
    return best


@dataclass(frozen=True)
class Flags:
    """What needs a look in one requirement."""

    no_goal: bool = False
    must_without_criterion: bool = False
    near_identical_to: int | None = None  # the other requirement's id
    similarity: float | None = None

    @property
    def any(self) -> bool:
        return self.no_goal or self.must_without_criterion or self.near_identical_to is not None


def flags_of(
    *,
    goal_count: int,
    priority: str,
    acceptance_criterion: str,
    status: str = "proposed",
    near: tuple[int, float] | None = None,
) -> Flags:
    """The flags of one requirement. A rejected requirement needs no goal and no criterion."""
    active = status != "rejected"
    return Flags(
        no_goal=active and goal_count == 0,
        must_without_criterion=active
        and priority == "must"
        and not (acceptance_criterion or "").strip(),
        near_identical_to=near[0] if near else None,
        similarity=near[1] if near else None,
    )


def goals_without_requirement(goal_ids: Iterable[int], served: Iterable[int]) -> list[int]:
    """The goals (in the order given) that no requirement serves."""
    covered = set(served)
    return [g for g in goal_ids if g not in covered]
