"""The requirements register as ReqIF 1.2, the interchange format of requirements tools (IBM
DOORS, Polarion, StrictDoc, ReqIF Studio). Pure: plain records in, bytes out, and back.

- Export writes one SPEC-OBJECT-TYPE "Requirement" whose attributes carry the key
  (ReqIF.ForeignID), the title (ReqIF.Name), the description as its Markdown source
  (ReqIF.Text, a string, so that it comes back character for character), type, priority and
  status as enumerations, module and acceptance criterion. Goals, source departments and the
  sources it was made from (an answer, an interview, with what they said) are objects of their
  own ("Goal", "Department", "Source quote"), linked by the relations "serves goal", "comes
  from" and "quotes". One SPECIFICATION "Requirements register" lists the requirements in
  order. Identifiers derive from the keys and from hashes of the traces' texts, so the same
  register exported at the same ``created`` time gives the same bytes.
- Import is :mod:`planner.requirements.reqif_read`, on the vocabulary defined here (attribute
  spellings, enumeration synonyms, the names of goals, departments and sources).
- Every text is NFC-normalised both ways. Characters that XML 1.0 cannot carry (control
  characters other than tab, line feed and carriage return) are exported as U+FFFD.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from planner.requirements.records import (
    TEXT_MAX,
    Priority,
    ReqStatus,
    ReqType,
    RequirementRecord,
)

REQIF_NS = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
TOOL_ID = "planner"
SPECIFICATION_NAME = "Requirements register"
MAX_BYTES = 20 * 1024 * 1024
MAX_RECORDS = 10_000

# The string attributes of a requirement: field -> (identifier, LONG-NAME).
_STRING_FIELDS = {
    "key": ("ad-req-key", "ReqIF.ForeignID"),
    "title": ("ad-req-title", "ReqIF.Name"),
    "description": ("ad-req-description", "ReqIF.Text"),
    "module": ("ad-req-module", "Module"),
    "acceptance_criterion": ("ad-req-acceptance", "Acceptance criterion"),
}
# The traces: relation kind -> (object type LONG-NAME, relation type LONG-NAME).
_TRACES = {
    "goal": ("Goal", "serves goal"),
    "department": ("Department", "comes from"),
    "source": ("Source quote", "quotes"),
}
_ENUMS: dict[str, type[enum.StrEnum]] = {
    "type": ReqType,
    "priority": Priority,
    "status": ReqStatus,
}
# Other spellings of enumeration values, normalised as by _norm (the register's own English
# labels among them; a test keeps them in step with records.py).
_ENUM_SYNONYMS: dict[str, dict[str, str]] = {
    "priority": {
        "must have": Priority.MUST.value,
        "should have": Priority.SHOULD.value,
        "could have": Priority.COULD.value,
        "wont have": Priority.WONT.value,
        "wont have this time": Priority.WONT.value,
        "will not have": Priority.WONT.value,
    },
    "type": {"nonfunctional": ReqType.NON_FUNCTIONAL.value},
}
# LONG-NAMEs of attribute definitions, normalised, by field; an earlier spelling wins when an
# object carries several (DOORS writes both ReqIF.Name and ReqIF.ChapterName).
_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "key": ("reqif.foreignid", "key", "id", "uid", "foreign id", "identifier"),
    "title": ("reqif.name", "title", "name", "reqif.chaptername", "heading"),
    "description": ("reqif.text", "description", "text", "statement"),
    "type": ("type", "requirement type", "kind"),
    "priority": ("priority", "moscow"),
    "status": ("status", "state"),
    "module": ("module", "component"),
    "acceptance_criterion": ("acceptance criterion", "acceptance criteria", "acceptance"),
}
_GOAL_NAMES = frozenset({"goal", "goals", "business goal", "objective", "serves goal", "serves"})
_SOURCE_NAMES = frozenset({"quotes", "source quote", "source quotes", "quotes source"})
_DEPARTMENT_NAMES = frozenset(
    {"department", "departments", "source department", "comes from", "source", "requested by"}
)
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]+")
_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"(?:[^\w.]|_)+")


# Export ----------------------------------------------------------------------------------


def _text(value: str) -> str:
    """NFC, and U+FFFD for the characters XML 1.0 cannot carry."""
    return _XML_ILLEGAL.sub("\ufffd", unicodedata.normalize("NFC", value))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class _Identifiers:
    """Unique XML IDs, derived deterministically from the texts they stand for."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def new(self, prefix: str, name: str) -> str:
        base = f"{prefix}-{name if _SAFE_ID.fullmatch(name) else _digest(name)}"
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate)
        return candidate


def _ncname(identifier: str) -> str:
    """The document identifier as an XML ID: other characters become "-", and an ID must not
    start with a digit, a dot or a hyphen."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", identifier)
    return cleaned if _NCNAME.fullmatch(cleaned) else f"_{cleaned}"


def _identified(
    parent: Element, tag: str, identifier: str, stamp: str, attrs: dict[str, str] | None = None
) -> Element:
    """A child with the IDENTIFIER and LAST-CHANGE every identifiable ReqIF element needs."""
    return SubElement(
        parent, tag, {"IDENTIFIER": identifier, "LAST-CHANGE": stamp, **(attrs or {})}
    )


def _ref(parent: Element, wrapper: str, tag: str, target: str) -> None:
    SubElement(SubElement(parent, wrapper), tag).text = target


def _string_value(values: Element, definition: str, value: str) -> None:
    av = SubElement(values, "ATTRIBUTE-VALUE-STRING", {"THE-VALUE": value})
    _ref(av, "DEFINITION", "ATTRIBUTE-DEFINITION-STRING-REF", definition)


def _cleaned(record: RequirementRecord) -> RequirementRecord:
    """The record with every text NFC-normalised and fit for XML."""
    texts = {k: _text(v) for k, v in record.as_dict().items() if isinstance(v, str)}
    return RequirementRecord(
        **texts,
        goals=tuple(_text(g) for g in record.goals),
        departments=tuple(_text(d) for d in record.departments),
        sources=tuple(_text(x) for x in record.sources),
    )


def _enum_values(records: Sequence[RequirementRecord]) -> dict[str, list[str]]:
    """The values of each enumeration: its members, then any other text the records carry."""
    out = {name: [m.value for m in members] for name, members in _ENUMS.items()}
    for record in records:
        for name, values in out.items():
            value = getattr(record, name)
            if value and value not in values:
                values.append(value)
    return out


def _header(root: Element, *, title: str, identifier: str, stamp: str) -> None:
    header = SubElement(SubElement(root, "THE-HEADER"), "REQ-IF-HEADER")
    header.set("IDENTIFIER", _ncname(_text(identifier)))
    SubElement(header, "COMMENT").text = f"{SPECIFICATION_NAME} exported by {TOOL_ID}"
    SubElement(header, "CREATION-TIME").text = stamp
    SubElement(header, "REQ-IF-TOOL-ID").text = TOOL_ID
    SubElement(header, "REQ-IF-VERSION").text = "1.0"
    SubElement(header, "SOURCE-TOOL-ID").text = TOOL_ID
    SubElement(header, "TITLE").text = _text(title)


def _datatypes(
    content: Element, enums: dict[str, list[str]], max_length: int, stamp: str, ids: _Identifiers
) -> dict[tuple[str, str], str]:
    """Write the datatypes; return the ENUM-VALUE identifier of each (enumeration, value)."""
    datatypes = SubElement(content, "DATATYPES")
    _identified(
        datatypes,
        "DATATYPE-DEFINITION-STRING",
        "dt-text",
        stamp,
        {"LONG-NAME": "Text", "MAX-LENGTH": str(max_length)},
    )
    enum_ids: dict[tuple[str, str], str] = {}
    for name, values in enums.items():
        dt = _identified(
            datatypes,
            "DATATYPE-DEFINITION-ENUMERATION",
            f"dt-{name}",
            stamp,
            {"LONG-NAME": name.capitalize()},
        )
        specified = SubElement(dt, "SPECIFIED-VALUES")
        for position, value in enumerate(values):
            ev_id = enum_ids[(name, value)] = ids.new(f"ev-{name}", value)
            ev = _identified(specified, "ENUM-VALUE", ev_id, stamp, {"LONG-NAME": value})
            embedded = {"KEY": str(position), "OTHER-CONTENT": value}
            SubElement(SubElement(ev, "PROPERTIES"), "EMBEDDED-VALUE", embedded)
    return enum_ids


def _spec_types(content: Element, stamp: str) -> None:
    types = SubElement(content, "SPEC-TYPES")
    req = _identified(
        types, "SPEC-OBJECT-TYPE", "sot-requirement", stamp, {"LONG-NAME": "Requirement"}
    )
    attributes = SubElement(req, "SPEC-ATTRIBUTES")
    for def_id, long_name in _STRING_FIELDS.values():
        ad = _identified(
            attributes, "ATTRIBUTE-DEFINITION-STRING", def_id, stamp, {"LONG-NAME": long_name}
        )
        _ref(ad, "TYPE", "DATATYPE-DEFINITION-STRING-REF", "dt-text")
    for name in _ENUMS:
        ad = _identified(
            attributes,
            "ATTRIBUTE-DEFINITION-ENUMERATION",
            f"ad-req-{name}",
            stamp,
            {"LONG-NAME": name.capitalize(), "MULTI-VALUED": "false"},
        )
        _ref(ad, "TYPE", "DATATYPE-DEFINITION-ENUMERATION-REF", f"dt-{name}")
    for kind, (label, _) in _TRACES.items():
        sot = _identified(types, "SPEC-OBJECT-TYPE", f"sot-{kind}", stamp, {"LONG-NAME": label})
        ad = _identified(
            SubElement(sot, "SPEC-ATTRIBUTES"),
            "ATTRIBUTE-DEFINITION-STRING",
            f"ad-{kind}-name",
            stamp,
            {"LONG-NAME": "ReqIF.Name"},
        )
        _ref(ad, "TYPE", "DATATYPE-DEFINITION-STRING-REF", "dt-text")
    for kind, (_, relation) in _TRACES.items():
        _identified(types, "SPEC-RELATION-TYPE", f"srt-{kind}", stamp, {"LONG-NAME": relation})
    _identified(
        types, "SPECIFICATION-TYPE", "st-register", stamp, {"LONG-NAME": SPECIFICATION_NAME}
    )


def _traced(r: RequirementRecord) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A record's traces by kind, in the order of ``_TRACES``."""
    return (("goal", r.goals), ("department", r.departments), ("source", r.sources))


def _requirement_object(
    objects: Element, record: RequirementRecord, req_id: str, enum_ids: dict, stamp: str
) -> None:
    so = _identified(objects, "SPEC-OBJECT", req_id, stamp)
    values = SubElement(so, "VALUES")
    for field_name, (def_id, _) in _STRING_FIELDS.items():
        if getattr(record, field_name):
            _string_value(values, def_id, getattr(record, field_name))
    for name in _ENUMS:
        if value := getattr(record, name):
            av = SubElement(values, "ATTRIBUTE-VALUE-ENUMERATION")
            _ref(av, "DEFINITION", "ATTRIBUTE-DEFINITION-ENUMERATION-REF", f"ad-req-{name}")
            _ref(av, "VALUES", "ENUM-VALUE-REF", enum_ids[(name, value)])
    _ref(so, "TYPE", "SPEC-OBJECT-TYPE-REF", "sot-requirement")


def export_reqif(
    records: Sequence[RequirementRecord], *, title: str, identifier: str, created: datetime
) -> bytes:
    """The register as a ReqIF 1.2 document: UTF-8 XML bytes in the namespace
    http://www.omg.org/spec/ReqIF/20110401/reqif.xsd, valid against the ReqIF schema.

    ``title`` becomes the header's TITLE, ``identifier`` the header's IDENTIFIER (characters an
    XML ID cannot hold become "-"), ``created`` the CREATION-TIME and every LAST-CHANGE, so the
    same records and time give the same bytes. Enumeration values outside the register's own
    (a type, priority or status no member has) are written as extra enumeration values rather
    than lost; empty texts and enumeration values are left out. Raises nothing."""
    stamp = created.isoformat()
    records = [_cleaned(r) for r in records]
    ids = _Identifiers()
    root = Element("REQ-IF", {"xmlns": REQIF_NS})
    _header(root, title=title, identifier=identifier, stamp=stamp)
    content = SubElement(SubElement(root, "CORE-CONTENT"), "REQ-IF-CONTENT")
    lengths = [len(getattr(r, f)) for r in records for f in _STRING_FIELDS]
    lengths += [len(t) for r in records for t in (*r.goals, *r.departments, *r.sources)]
    enum_ids = _datatypes(content, _enum_values(records), max([TEXT_MAX, *lengths]), stamp, ids)
    _spec_types(content, stamp)

    req_ids = [ids.new("req", r.key) for r in records]
    targets: dict[tuple[str, str], str] = {}  # (kind, text) -> object identifier, first seen first
    for r in records:
        for kind, texts in (
            ("goal", r.goals),
            ("department", r.departments),
            ("source", r.sources),
        ):
            for text in texts:
                if (kind, text) not in targets:
                    targets[(kind, text)] = ids.new(kind, _digest(text))

    objects = SubElement(content, "SPEC-OBJECTS")
    for r, req_id in zip(records, req_ids, strict=True):
        _requirement_object(objects, r, req_id, enum_ids, stamp)
    for (kind, text), object_id in targets.items():
        so = _identified(objects, "SPEC-OBJECT", object_id, stamp)
        _string_value(SubElement(so, "VALUES"), f"ad-{kind}-name", text)
        _ref(so, "TYPE", "SPEC-OBJECT-TYPE-REF", f"sot-{kind}")

    relations = SubElement(content, "SPEC-RELATIONS")
    for r, req_id in zip(records, req_ids, strict=True):
        for kind, texts in (
            ("goal", r.goals),
            ("department", r.departments),
            ("source", r.sources),
        ):
            for position, text in enumerate(texts, start=1):
                rel_id = ids.new("rel", f"{req_id}-{kind}-{position}")
                rel = _identified(relations, "SPEC-RELATION", rel_id, stamp)
                _ref(rel, "TYPE", "SPEC-RELATION-TYPE-REF", f"srt-{kind}")
                _ref(rel, "SOURCE", "SPEC-OBJECT-REF", req_id)
                _ref(rel, "TARGET", "SPEC-OBJECT-REF", targets[(kind, text)])

    specifications = SubElement(content, "SPECIFICATIONS")
    spec = _identified(
        specifications, "SPECIFICATION", "spec-register", stamp, {"LONG-NAME": SPECIFICATION_NAME}
    )
    _ref(spec, "TYPE", "SPECIFICATION-TYPE-REF", "st-register")
    if req_ids:
        children = SubElement(spec, "CHILDREN")
        for req_id in req_ids:
            hierarchy = _identified(children, "SPEC-HIERARCHY", ids.new("sh", req_id), stamp)
            _ref(hierarchy, "OBJECT", "SPEC-OBJECT-REF", req_id)
    for container in (objects, relations):
        if len(container) == 0:
            content.remove(container)
    indent(root, space="  ")
    body = tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()
