"""The vocabulary of the requirements register and a requirement as plain values. Pure: no
Flask, no session; the interchange formats (sheets, ReqIF) read and write these records."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l


class ReqType(enum.StrEnum):
    FUNCTIONAL = "functional"
    NON_FUNCTIONAL = "non_functional"
    DATA = "data"
    INTEGRATION = "integration"
    SECURITY = "security"


class Priority(enum.StrEnum):
    """MoSCoW."""

    MUST = "must"
    SHOULD = "should"
    COULD = "could"
    WONT = "wont"


class ReqStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DEFERRED = "deferred"


TYPE_LABELS = {
    ReqType.FUNCTIONAL: _l("Functional"),
    ReqType.NON_FUNCTIONAL: _l("Non-functional"),
    ReqType.DATA: _l("Data"),
    ReqType.INTEGRATION: _l("Integration"),
    ReqType.SECURITY: _l("Security"),
}
PRIORITY_LABELS = {
    Priority.MUST: _l("Must have"),
    Priority.SHOULD: _l("Should have"),
    Priority.COULD: _l("Could have"),
    Priority.WONT: _l("Won't have this time"),
}
STATUS_LABELS = {
    ReqStatus.PROPOSED: _l("Proposed"),
    ReqStatus.ACCEPTED: _l("Accepted"),
    ReqStatus.REJECTED: _l("Rejected"),
    ReqStatus.DEFERRED: _l("Deferred"),
}

# The usual modules of a CRM (seed 001); a lead may name their own.
DEFAULT_MODULES: tuple[str, ...] = (
    "Customer records",
    "Sales process",
    "Service and complaints",
    "Marketing",
    "Reporting",
    "Integrations",
)

TITLE_MAX = 200
MODULE_MAX = 80
TEXT_MAX = 20_000
KEY_PREFIX = "REQ-"
_KEY = re.compile(r"^\s*REQ-0*(\d{1,9})\s*$", re.IGNORECASE)


def key_of(number: int) -> str:
    """The requirement's stable key: REQ-001, REQ-042, REQ-1234."""
    return f"{KEY_PREFIX}{number:03d}"


def number_of(key: str) -> int | None:
    """The number in a key ("REQ-007" and "req-7" are 7), or None if it is not a key."""
    m = _KEY.match(key or "")
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class RequirementRecord:
    """A requirement as the interchange formats carry it: its key (empty for a new one), its
    fields as plain text and enum values, and its traces by name: the goals it serves (their
    statements) and its source departments (their names); ``fields``: which of them the file
    carries at all."""

    key: str
    title: str
    description: str = ""
    type: str = ReqType.FUNCTIONAL.value
    priority: str = Priority.SHOULD.value
    module: str = ""
    status: str = ReqStatus.PROPOSED.value
    acceptance_criterion: str = ""
    goals: tuple[str, ...] = field(default_factory=tuple)
    departments: tuple[str, ...] = field(default_factory=tuple)
    # where it came from, in words ("Interview with Radu Marin, 2026-11-02: …"): carried by
    # ReqIF for other tools to read, not imported (an answer is not made from a file)
    sources: tuple[str, ...] = field(default_factory=tuple)
    # the fields the file has (a column, an attribute); None: all of them. An import changes
    # only these on an existing requirement: a sheet without a Module column keeps modules.
    fields: frozenset[str] | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "type": self.type,
            "priority": self.priority,
            "module": self.module,
            "status": self.status,
            "acceptance_criterion": self.acceptance_criterion,
            "goals": list(self.goals),
            "departments": list(self.departments),
            "sources": list(self.sources),
        }
