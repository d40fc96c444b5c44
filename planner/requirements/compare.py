"""Two revisions of a requirement side by side, field by field, with the changed words marked.
Pure: snapshots (plain dicts) in, plain values out."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

# The fields of a snapshot in the order people read them, with their names.
FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "Title"),
    ("description", "Description"),
    ("type", "Type"),
    ("priority", "Priority"),
    ("module", "Module"),
    ("status", "Status"),
    ("acceptance_criterion", "Acceptance criterion"),
    ("owner", "Owner"),
    ("goals", "Goals"),
    ("departments", "Source departments"),
)


@dataclass(frozen=True)
class Segment:
    """A run of words of a text: ``kind`` is "same", "removed" or "added"."""

    kind: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    """One field of two revisions: its values and, if it changed, how."""

    field: str
    label: str
    before: Any
    after: Any
    changed: bool
    words: tuple[Segment, ...] = ()  # the text fields' word diff, when changed

    def as_dict(self) -> dict[str, Any]:
        out = {
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "changed": self.changed,
        }
        if self.words:
            out["words"] = [{"kind": s.kind, "text": s.text} for s in self.words]
        return out


_TOKEN = re.compile(r"\s+|[^\s]+")


def word_diff(before: str, after: str) -> tuple[Segment, ...]:
    """The words of ``after`` and ``before`` as one sequence: unchanged runs, removed runs and
    added runs, whitespace kept, so that the result reads as the text with its changes."""
    a, b = _TOKEN.findall(before or ""), _TOKEN.findall(after or "")
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(Segment("same", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(Segment("removed", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(Segment("added", "".join(b[j1:j2])))
    return tuple(s for s in out if s.text)


def _names(value: Any) -> list[str]:
    """A trace list of a snapshot ([{"id":, "name":}] or names) as its names."""
    if not value:
        return []
    return [v["name"] if isinstance(v, dict) else str(v) for v in value]


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every field of two snapshots, in reading order, with whether and how it changed."""
    out = []
    for name, label in FIELDS:
        a, b = before.get(name), after.get(name)
        if name in ("goals", "departments"):
            a, b = _names(a), _names(b)
        changed = a != b
        words: tuple[Segment, ...] = ()
        if changed and isinstance(a or "", str) and isinstance(b or "", str):
            words = word_diff(a or "", b or "")
        out.append(FieldChange(name, label, a, b, changed, words))
    return out
