"""What needs a look in the register, as pure functions on plain values (no Flask, no session):
a requirement serving no goal, a must-have without an acceptance criterion, a title nearly the
same as another's, a goal no requirement serves."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

# Titles at least this similar (0-100, rapidfuzz's token-sort ratio of normalised titles) are
# flagged as near-identical: "Track customer calls in real time" and "Real-time tracking of
# customer calls" are not; "Track customer calls in real time" and "Track customer calls in
# real-time." are.
NEAR_IDENTICAL = 90.0


def normalise_title(title: str) -> str:
    """The comparison form of a title: NFKC, case-folded, punctuation as spaces, one space."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def near_identical(
    titles: Mapping[int, str], ids: Iterable[int], threshold: float = NEAR_IDENTICAL
) -> dict[int, tuple[int, float]]:
    """For each of ``ids``, the most similar other requirement of ``titles`` (id -> title) if
    its title is near-identical: ``{id: (other_id, similarity)}``.

    Two measures, each in rapidfuzz's C code: the words in any order (token-sort ratio), and
    the characters with the spaces taken out (for scripts written without spaces, such as
    Chinese, where "48 小时" and "48小时" are one title). The cost is len(ids) × len(titles)
    comparisons: a page of 25 against 2,000 titles takes a few milliseconds.
    """
    normal = {rid: normalise_title(t) for rid, t in titles.items()}
    words = {rid: text for rid, text in normal.items() if text}
    letters = {rid: text.replace(" ", "") for rid, text in words.items()}
    found: dict[int, tuple[int, float]] = {}
    for rid in ids:
        if rid not in words:
            continue
        best: tuple[int, float] | None = None
        for query, choices, scorer in (
            (words[rid], words, fuzz.token_sort_ratio),
            (letters[rid], letters, fuzz.ratio),
        ):
            for _text, score, other in process.extract(
                query, choices, scorer=scorer, score_cutoff=threshold, limit=2
            ):
                if other != rid and (best is None or score > best[1]):
                    best = (other, round(score, 1))
        if best is not None:
            found[rid] = best
    return found


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
