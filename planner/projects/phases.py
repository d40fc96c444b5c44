"""The phases of a CRM rollout and the rules of their gates. Pure: no Flask, no session.

The extension points through which each area plugs into the rollout from its own folder,
without the rollout importing it:

- :func:`register_criteria`: exit criteria computed from the area's data (the lead's checklist
  adds the rest). A gate passes only when every criterion is met.
- :func:`register_phase_page`: the page where a phase's work is done.
- :func:`register_phase_panel`: a panel on a phase's page (a template and its data).
- :func:`register_overview_panel`: a panel on the rollout's overview.
- :func:`register_overdue`: what is late in the area, listed on the overview.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
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

# Short names where a phase's title does not fit (the overview's pipeline): people never see
# a phase's key.
SHORT_TITLES: dict[str, Any] = {
    "goals": _l("Goals"),
    "requirements": _l("Requirements"),
    "design": _l("Design"),
    "vendors": _l("Vendors"),
    "spec": _l("Specification"),
    "migration": _l("Migration"),
    "testing": _l("Testing"),
    "training": _l("Training"),
    "golive": _l("Go-live"),
}


def phase_name(key: str) -> str:
    """The phase's title in English, for stored text such as audit summaries (the pages show
    the reader's language; a stored summary is written once, for everyone)."""
    with force_locale("en"):
        return str(PHASE_BY_KEY[key].title)


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


@dataclass(frozen=True)
class Panel:
    """A panel an area shows on a page of the rollout.

    ``load(session, access, phase)`` returns the data the template gets as ``panel_data``, or
    None to show nothing; it must run a constant number of queries, whatever the size of the
    rollout (``phase`` is None on the overview). ``template`` is rendered with the page's
    context plus ``panel`` and ``panel_data``. Panels are shown by ``order``, then by name.
    """

    name: str
    template: str
    load: Callable[[Any, Any, Any], Any]
    phases: frozenset[str] | None = None  # phase pages it appears on; None: the overview
    order: int = 100


@dataclass(frozen=True)
class Notice:
    """Something late, as the overview lists it: a text and the page where to act on it."""

    text: str
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Waiting:
    """Something that waits for one person (an approval, a gate, a scoresheet), as their
    home page lists it: the rollout, a text, and the page where to act on it."""

    project_id: int
    project: str
    text: str
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)


_PANELS: dict[str, Panel] = {}
OverdueProvider = Callable[[Any, Any, Any], list[Notice]]
_OVERDUE: list[OverdueProvider] = []
WaitingProvider = Callable[[Any, Any], list[Waiting]]
_WAITING: list[WaitingProvider] = []


def register_waiting(fn: WaitingProvider) -> WaitingProvider:
    """Decorator: ``fn(session, user) -> [Waiting]`` adds what waits for ``user`` in the area,
    across every rollout they belong to, to their "waiting on you" list (a constant number of
    queries, whatever the number of rollouts)."""
    if fn not in _WAITING:
        _WAITING.append(fn)
    return fn


def waiting_providers() -> list[WaitingProvider]:
    """The registered "waiting on you" providers, in the order they registered."""
    return list(_WAITING)


def _add_panel(panel: Panel) -> None:
    known = _PANELS.get(panel.name)
    if known is not None and known.load is not panel.load:
        raise ValueError(f"a panel named {panel.name!r} is registered already")
    _PANELS[panel.name] = panel


def register_phase_panel(
    name: str, template: str, *, phases: tuple[str, ...], order: int = 100
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``fn(session, access, phase) -> data | None`` feeds a panel shown on the
    pages of ``phases``. Raises KeyError for an unknown phase, ValueError for a name taken."""
    for key in phases:
        if key not in _PROVIDERS:
            raise KeyError(key)

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        _add_panel(Panel(name, template, fn, frozenset(phases), order))
        return fn

    return deco


def register_overview_panel(
    name: str, template: str, *, order: int = 100
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``fn(session, access, None) -> data | None`` feeds a panel of the overview."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        _add_panel(Panel(name, template, fn, None, order))
        return fn

    return deco


def register_overdue(fn: OverdueProvider) -> OverdueProvider:
    """Decorator: ``fn(session, project, today) -> [Notice]`` adds the area's late items to
    the overview's list of what is overdue (a constant number of queries)."""
    if fn not in _OVERDUE:
        _OVERDUE.append(fn)
    return fn


def phase_panels(phase_key: str) -> list[Panel]:
    """The panels of a phase's page, in order."""
    found = [p for p in _PANELS.values() if p.phases is not None and phase_key in p.phases]
    return sorted(found, key=lambda p: (p.order, p.name))


def overview_panels() -> list[Panel]:
    """The panels of the overview, in order."""
    return sorted(
        (p for p in _PANELS.values() if p.phases is None), key=lambda p: (p.order, p.name)
    )


def overdue_providers() -> list[OverdueProvider]:
    return list(_OVERDUE)


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
