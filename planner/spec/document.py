"""The specification as a document, in plain values (pure: no Flask, no session): its
standard sections, what each draws from the other phases when a version is frozen, and the
differences between two versions.

A version's content is what is signed, as canonical JSON: text, integers, lists and dicts
only (numbers such as a KPI's target are kept as text: no float is left to chance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner.requirements.compare import word_diff

# Seed 000 step 4: the terms of reference, like a house's design documents: look, functions,
# tasks and improvements, costs and schedule. In this order by default.
DEFAULT_SECTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "scope",
        "Scope and goals",
        "Why the company wants the CRM; the goals below come from the goals phase.",
    ),
    (
        "current_processes",
        "Current processes",
        "How the work is done today, department by department.",
    ),
    (
        "target_design",
        "Target design",
        "The approved solution design, below; what it means for each department.",
    ),
    (
        "functional",
        "Functional requirements",
        "The accepted functional requirements, by module, below.",
    ),
    (
        "non_functional",
        "Non-functional requirements",
        "Performance, availability, usability: below.",
    ),
    (
        "integrations",
        "Integrations",
        "The systems the CRM exchanges data with; the integration requirements below.",
    ),
    (
        "data_migration",
        "Data migration",
        "What moves from the old system, how it is cleaned, and the pilot; data "
        "requirements below.",
    ),
    (
        "security",
        "Security and access",
        "Which fields are sensitive and who may see which blocks of information; security "
        "requirements below.",
    ),
    ("costs", "Costs", "Licences, the vendor's work, support, over three years."),
    (
        "schedule",
        "Schedule and milestones",
        "The phases' dates below; the milestones the vendor commits to.",
    ),
    ("risks", "Risks", "What could go wrong, who owns each risk, and how it is kept small."),
)
TITLES = {key: title for key, title, _ in DEFAULT_SECTIONS}
GUIDANCE = {key: text for key, _, text in DEFAULT_SECTIONS}
# The requirements each standard section lists, by type.
REQUIREMENT_SECTIONS = {
    "functional": "functional",
    "non_functional": "non_functional",
    "integrations": "integration",
    "data_migration": "data",
    "security": "security",
}


def drawn(
    key: str,
    *,
    goals: Sequence[dict[str, Any]],
    design: dict[str, Any] | None,
    requirements: Sequence[dict[str, Any]],
    phases: Sequence[dict[str, Any]],
) -> dict[str, Any] | None:
    """What the standard section ``key`` draws from the other phases (None for a section of
    the lead's own): the goals and their KPIs, the approved design, the requirements of its
    type by module (their keys), the phases' dates."""
    if key == "scope":
        return {"goals": list(goals)}
    if key == "target_design":
        return {"design": design}
    if key in REQUIREMENT_SECTIONS:
        kind = REQUIREMENT_SECTIONS[key]
        by_module: dict[str, list[str]] = {}
        for r in requirements:
            if r["type"] == kind:
                by_module.setdefault(r["module"] or "", []).append(r["key"])
        return {
            "modules": [
                {"module": m, "requirements": keys}
                for m, keys in sorted(
                    by_module.items(), key=lambda kv: (kv[0] == "", kv[0].casefold())
                )
            ]
        }
    if key == "schedule":
        return {"phases": list(phases)}
    return None


def version_content(
    sections: Sequence[dict[str, Any]],
    *,
    goals: Sequence[dict[str, Any]],
    design: dict[str, Any] | None,
    requirements: Sequence[dict[str, Any]],
    phases: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """What a version freezes: each section (key, title, text) with what it draws from the
    other phases, and every requirement it carries at its exact revision."""
    return {
        "sections": [
            {
                "key": s["key"],
                "title": s["title"],
                "text": s["text"],
                "drawn": drawn(
                    s["key"], goals=goals, design=design, requirements=requirements, phases=phases
                ),
            }
            for s in sections
        ],
        "requirements": list(requirements),
    }


@dataclass(frozen=True)
class Change:
    """One thing that differs between two versions: a section or a requirement, added,
    removed or changed, and how."""

    kind: str  # "section" or "requirement"
    key: str  # the section's key and title, or the requirement's key
    label: str
    change: str  # "added", "removed", "changed"
    fields: tuple[tuple[str, Any, Any, tuple[tuple[str, str], ...]], ...] = ()
    # (field, before, after, word diff as (kind, text) runs for text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "change": self.change,
            "fields": [
                {
                    "field": f,
                    "before": a,
                    "after": b,
                    **({"words": [{"kind": k, "text": t} for k, t in w]} if w else {}),
                }
                for f, a, b, w in self.fields
            ],
        }


def _field_changes(a: dict[str, Any], b: dict[str, Any], names: Sequence[str]):
    out = []
    for name in names:
        x, y = a.get(name), b.get(name)
        if x == y:
            continue
        words: tuple[tuple[str, str], ...] = ()
        if isinstance(x, str) and isinstance(y, str):
            words = tuple((s.kind, s.text) for s in word_diff(x, y))
        out.append((name, x, y, words))
    return tuple(out)


SECTION_FIELDS = ("title", "text", "drawn")
REQUIREMENT_FIELDS = (
    "revision",
    "title",
    "description",
    "type",
    "priority",
    "module",
    "status",
    "acceptance_criterion",
    "goals",
)


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The differences between two versions' contents: sections (by key, in the later
    version's order, then those removed) and requirements (by key), each added, removed or
    changed field by field, text with its changed words marked."""
    out: list[Change] = []
    a_sections = {_section_id(s): s for s in before.get("sections", [])}
    b_sections = {_section_id(s): s for s in after.get("sections", [])}
    for sid, s in b_sections.items():
        old = a_sections.get(sid)
        if old is None:
            out.append(Change("section", sid, s["title"], "added"))
        elif fields := _field_changes(old, s, SECTION_FIELDS):
            out.append(Change("section", sid, s["title"], "changed", fields))
    for sid, s in a_sections.items():
        if sid not in b_sections:
            out.append(Change("section", sid, s["title"], "removed"))
    a_reqs = {r["key"]: r for r in before.get("requirements", [])}
    b_reqs = {r["key"]: r for r in after.get("requirements", [])}
    for key in sorted(set(a_reqs) | set(b_reqs), key=_key_order):
        old, new = a_reqs.get(key), b_reqs.get(key)
        if old is None and new is not None:
            out.append(Change("requirement", key, new["title"], "added"))
        elif new is None and old is not None:
            out.append(Change("requirement", key, old["title"], "removed"))
        elif (
            old is not None
            and new is not None
            and (fields := _field_changes(old, new, REQUIREMENT_FIELDS))
        ):
            out.append(Change("requirement", key, new["title"], "changed", fields))
    return out


def _section_id(section: dict[str, Any]) -> str:
    """A standard section by its key; a section of the lead's own by its title."""
    return section["key"] if section["key"] != "custom" else f"custom:{section['title']}"


def _key_order(key: str) -> tuple[int, str]:
    digits = "".join(ch for ch in key if ch.isdigit())
    return (int(digits) if digits else 0, key)
