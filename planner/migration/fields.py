"""The new CRM's fields a migration fills, and the recipe document that says how.

A target field has a ``name`` (as the new CRM's import expects it), a ``label`` for people, a
``type`` (:data:`TYPES`), whether it is ``required``, whether it is ``sensitive`` (seed 001's
data classification: the most frequent values of a sensitive field are shown to the lead
alone), and for a picklist its allowed ``values``.

The recipe is one JSON document (:data:`FORMAT`, version :data:`FORMAT_VERSION`)::

    {
      "format": "planner-migration-recipe", "format_version": 1,
      "entity": "contacts",            # what the rows are: contacts, companies, deals, ...
      "region": "RU",                  # default country of phone numbers without a code
      "key": "email",                  # the target field records are matched by (reconcile)
      "fields": [{"name": "email", "label": "E-mail", "type": "email",
                  "required": true, "sensitive": true, "values": []}, ...],
      "rules": [{"field": "email", "from": ["E-mail"], "transform": "email",
                 "options": {}}, ...],
      "merge": {"by": ["email"], "winner": "most_complete",
                "fields": {"phone": "first_non_empty"}}        # optional
    }

:mod:`planner.migration.recipe` parses, checks and applies it; :mod:`planner.migration.targets`
holds the starter templates and suggests a recipe for a file's columns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FORMAT = "planner-migration-recipe"
FORMAT_VERSION = 1

TEXT = "text"
DATE = "date"
CHECKBOX = "checkbox"
NUMBER = "number"
PHONE = "phone"
EMAIL = "email"
PICKLIST = "picklist"
TYPES = (TEXT, DATE, CHECKBOX, NUMBER, PHONE, EMAIL, PICKLIST)


@dataclass(frozen=True)
class Field:
    """One field of the new CRM (see the module)."""

    name: str
    label: str
    type: str = TEXT
    required: bool = False
    sensitive: bool = False
    values: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The field as the recipe document writes it."""
        found = asdict(self)
        found["values"] = list(self.values)
        return found
