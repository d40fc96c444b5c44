"""The phases of a CRM rollout and the rules of their gates. Pure: no Flask, no session.

Each area adds the criteria computed from its own artifacts through :func:`register_criteria`;
the lead's checklist adds the rest. A gate passes only when every criterion is met.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


class PhaseStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    AWAITING_GATE = "awaiting_gate"
    PASSED = "passed"
    SKIPPED = "skipped"

    @property
    def done(self) -> bool:
        return self in (PhaseStatus.PASSED, PhaseStatus.SKIPPED)


STATUS_LABELS = {
    PhaseStatus.NOT_STARTED: _l("Not started"),
    PhaseStatus.IN_PROGRESS: _l("In progress"),
    PhaseStatus.AWAITING_GATE: _l("Awaiting gate"),
    PhaseStatus.PASSED: _l("Passed"),
    PhaseStatus.SKIPPED: _l("Skipped"),
}


class GateOutcome(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a gate outcome
    SEND_BACK = "send_back"
    SKIP = "skip"


class SolutionKind(enum.StrEnum):
    OUTSOURCED = "outsourced"
    OFF_THE_SHELF = "off_the_shelf"
    CUSTOM = "custom"
    MANAGED = "managed"


SOLUTION_LABELS = {
    SolutionKind.OUTSOURCED: _l("Outsourced"),
    SolutionKind.OFF_THE_SHELF: _l("Off-the-shelf"),
    SolutionKind.CUSTOM: _l("Custom"),
    SolutionKind.MANAGED: _l("Managed"),
}


class Strategy(enum.StrEnum):
    FULL = "full"
    QUICK_START = "quick_start"
    PHASED = "phased"


STRATEGY_LABELS = {
    Strategy.FULL: _l("Full implementation"),
    Strategy.QUICK_START: _l("Quick start"),
    Strategy.PHASED: _l("Phased introduction"),
}


@dataclass(frozen=True)
class PhaseDef:
    key: str
    title: Any
    purpose: Any
    risk_of_skipping: Any


PHASES: tuple[PhaseDef, ...] = (
    PhaseDef(
        "goals",
        _l("Goals and KPIs"),
        _l("Why the company wants a CRM, as measurable goals with KPIs."),
        _l(
            "You pay for a system that automates processes you don't have, full of features "
            "you never use."
        ),
    ),
    PhaseDef(
        "requirements",
        _l("Requirements"),
        _l("Every department states its needs through questionnaires and interviews."),
        _l(
            "Needs are missed or recorded twice; gaps surface only after go-live, when they "
            "are most expensive to fix."
        ),
    ),
    PhaseDef(
        "design",
        _l("Solution design"),
        _l("A modular design that fits the processes, reviewed by a cross-department board."),
        _l(
            "The system does not fit how the company works; feasibility, cost and risk were "
            "never reviewed by the people who will live with it."
        ),
    ),
    PhaseDef(
        "vendors",
        _l("Vendor selection"),
        _l("Market research, a weighted scoring matrix, contract negotiation."),
        _l(
            "A superficial choice means changing systems later, or paying for one small "
            "improvement after another when an industry solution had it all."
        ),
    ),
    PhaseDef(
        "spec",
        _l("Technical specification"),
        _l("The terms of reference, signed off by the executives."),
        _l("Ambiguous tasks, the same work redone several times, budget and time grow."),
    ),
    PhaseDef(
        "migration",
        _l("Data migration"),
        _l("Audit, clean and move the client data; pilot first, then verify."),
        _l(
            "Duplicates, errors and missing records arrive in the new system; customer data "
            "may be lost or exposed."
        ),
    ),
    PhaseDef(
        "testing",
        _l("Implementation and testing"),
        _l("A test plan and a test log; fix, retest, regress before go-live."),
        _l("Defects reach the users at go-live, and trust in the new system is lost early."),
    ),
    PhaseDef(
        "training",
        _l("Training"),
        _l("A training plan by role, evaluated and followed up."),
        _l("The CRM is installed and nobody works in it."),
    ),
    PhaseDef(
        "golive",
        _l("Go-live and success"),
        _l("Measure the goals, collect feedback, keep improving."),
        _l("Nobody knows whether the rollout achieved what it was for."),
    ),
)
PHASE_KEYS: tuple[str, ...] = tuple(p.key for p in PHASES)
PHASE_BY_KEY: dict[str, PhaseDef] = {p.key: p for p in PHASES}


@dataclass(frozen=True)
class Criterion:
    """One exit criterion of a phase and whether it is met."""

    label: str
    met: bool
    computed: bool = True  # False: a checklist item the lead ticks
    detail: str = ""


# phase key -> functions (session, project) -> criteria, registered by each area
CriteriaProvider = Callable[[Any, Any], list[Criterion]]
_PROVIDERS: dict[str, list[CriteriaProvider]] = {k: [] for k in PHASE_KEYS}


def register_criteria(phase_key: str) -> Callable[[CriteriaProvider], CriteriaProvider]:
    """Decorator: ``fn(session, project) -> list[Criterion]`` adds computed criteria."""
    if phase_key not in _PROVIDERS:
        raise KeyError(phase_key)

    def deco(fn: CriteriaProvider) -> CriteriaProvider:
        if fn not in _PROVIDERS[phase_key]:
            _PROVIDERS[phase_key].append(fn)
        return fn

    return deco


# phase key -> (endpoint, label) of the area's own page, registered by each area
_PAGES: dict[str, tuple[str, Any]] = {}


def register_phase_page(phase_key: str, endpoint: str, label: Any) -> None:
    """Link a phase to the page where its work is done (e.g. goals -> goals.index)."""
    if phase_key not in _PROVIDERS:
        raise KeyError(phase_key)
    _PAGES[phase_key] = (endpoint, label)


def phase_page(phase_key: str) -> tuple[str, Any] | None:
    return _PAGES.get(phase_key)


def providers(phase_key: str) -> list[CriteriaProvider]:
    return list(_PROVIDERS[phase_key])


def unmet(criteria: list[Criterion]) -> list[Criterion]:
    return [c for c in criteria if not c.met]


def earlier_phases_open(statuses: dict[str, PhaseStatus], key: str) -> list[str]:
    """The keys of phases before ``key`` that have neither passed nor been skipped."""
    idx = PHASE_KEYS.index(key)
    return [k for k in PHASE_KEYS[:idx] if not statuses[k].done]


def next_gate(statuses: dict[str, PhaseStatus]) -> str | None:
    """The first phase that has neither passed nor been skipped."""
    for key in PHASE_KEYS:
        if not statuses[key].done:
            return key
    return None


def progress(statuses: dict[str, PhaseStatus]) -> float:
    """Share of phases done, 0..1."""
    return sum(1 for s in statuses.values() if s.done) / len(PHASE_KEYS)
