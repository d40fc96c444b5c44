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
- Import parses through defusedxml (no DTD, no entities, no external references) and reads
  files of other tools tolerantly: attribute names are matched case-insensitively against
  several usual spellings, enumeration values through their names or keys, XHTML text as plain
  text. An enumeration text it does not know is kept as written, for the caller to report.
- Every text is NFC-normalised both ways. Characters that XML 1.0 cannot carry (control
  characters other than tab, line feed and carriage return) are exported as U+FFFD.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element, ParseError, SubElement, indent, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from planner.core.errors import ValidationError
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


@dataclass(frozen=True)
class ReqIFImport:
    """What a ReqIF file holds for the register: its requirements in the order of its
    specification (keys may be empty, enumeration values may be unknown: the caller validates
    them row by row) and the title of the document. Raises nothing."""

    records: list[RequirementRecord]
    title: str


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


# Import ----------------------------------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{REQIF_NS}}}{tag}"


def _local(tag: object) -> str:
    """The tag without its namespace ("" for comments and processing instructions)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _norm(name: str) -> str:
    """A name as compared: case-folded, apostrophes dropped, other separators one space."""
    folded = unicodedata.normalize("NFKC", name).casefold().replace("'", "").replace("’", "")
    return _NON_WORD.sub(" ", folded).strip()


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def _ref_text(element: Element | None, path: str) -> str:
    """The text of the reference at ``path`` (names without namespace, "/"-separated)."""
    if element is None:
        return ""
    found = element.find("/".join(_q(p) for p in path.split("/")))
    return (found.text or "").strip() if found is not None else ""


def _first_ref(element: Element | None) -> str:
    """The text of the first child of ``element`` (DEFINITION holds one *-REF of any kind)."""
    if element is None:
        return ""
    for child in element:
        return (child.text or "").strip()
    return ""


_FIELD_BY_ALIAS = {
    alias: (field_name, rank)
    for field_name, aliases in _FIELD_ALIASES.items()
    for rank, alias in enumerate(aliases)
}
_BLOCKS = frozenset(
    {"address", "blockquote", "div", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "ol", "p", "pre"}
    | {"table", "ul"}
)
_LINES = frozenset({"br", "dd", "dt", "li", "tr", "caption"})


class _PlainText:
    """Text gathered from XHTML: whitespace collapsed outside <pre>, line and paragraph breaks
    where the blocks end, list items starting with "- "."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = 0

    def add(self, text: str, pre: bool) -> None:
        if not pre:
            text = _SPACES.sub(" ", text)
            if self.pending or not self.parts or self.parts[-1].endswith((" ", "\n")):
                text = text.lstrip(" ")
        if not text:
            return
        if self.pending and self.parts:
            self.parts.append("\n" * self.pending)
        self.pending = 0
        self.parts.append(text)

    def brk(self, lines: int) -> None:
        self.pending = max(self.pending, lines)

    def result(self) -> str:
        lines = "".join(self.parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")


def _xhtml_text(the_value: Element | None) -> str:
    """The plain text of an XHTML value, walked without recursion (files may nest deeply)."""
    if the_value is None:
        return ""
    out = _PlainText()
    # Items: (element, in <pre>) to open, or (text, in <pre>) / (int, _) for a break to emit.
    stack: list[tuple[Element | str | int, bool]] = [(the_value, False)]
    while stack:
        item, pre = stack.pop()
        if isinstance(item, str):
            out.add(item, pre)
            continue
        if isinstance(item, int):
            out.brk(item)
            continue
        name = _local(item.tag).lower()
        inner = pre or name == "pre"
        if name in _BLOCKS:
            out.brk(2 if name in {"p", "pre", "blockquote", "table", "h1", "h2", "h3"} else 1)
        elif name in _LINES:
            out.brk(1)
        if name == "li":
            out.add("- ", True)
        if item.tail and item is not the_value:
            stack.append((item.tail, pre))
        if name in _BLOCKS:
            stack.append((2 if name not in {"div", "ol", "ul", "dl"} else 1, pre))
        elif name in _LINES:
            stack.append((1, pre))
        stack.extend((child, inner) for child in reversed(item) if isinstance(child.tag, str))
        if item.text and name:
            stack.append((item.text, inner))
    return _nfc(out.result())


@dataclass
class _Definition:
    field: str | None  # the record field it maps to, None when unknown
    rank: int
    default: str | list[str] | None


@dataclass
class _ObjectType:
    name: str
    definitions: dict[str, _Definition]

    def fields(self) -> set[str]:
        return {d.field for d in self.definitions.values() if d.field}


def _raw_value(av: Element) -> tuple[str, str | list[str]] | None:
    """(definition reference, value) of an ATTRIBUTE-VALUE-*: text, or the enumeration's
    ENUM-VALUE references; None for what is not an attribute value."""
    kind = _local(av.tag)
    if not kind.startswith("ATTRIBUTE-VALUE-"):
        return None
    definition = _first_ref(av.find(_q("DEFINITION")))
    if kind == "ATTRIBUTE-VALUE-ENUMERATION":
        values = av.find(_q("VALUES"))
        refs = [] if values is None else [(r.text or "").strip() for r in values]
        return definition, [r for r in refs if r]
    if kind == "ATTRIBUTE-VALUE-XHTML":
        return definition, _xhtml_text(av.find(_q("THE-VALUE")))
    return definition, _nfc(av.get("THE-VALUE"))


def _enum_value(field_name: str, candidates: Iterable[str]) -> str:
    """The register's value for the first candidate text that names one; else the first
    non-empty candidate as written (the caller reports it)."""
    members = _ENUMS[field_name]
    known = {_norm(m.value): m.value for m in members} | {_norm(m.name): m.value for m in members}
    known |= _ENUM_SYNONYMS.get(field_name, {})
    texts = [c for c in candidates if c and c.strip()]
    for text in texts:
        if _norm(text) in known:
            return known[_norm(text)]
    return texts[0].strip() if texts else ""


def _refuse(message: str, exc: BaseException | None = None) -> ValidationError:
    detail = f"{message}: {exc}" if exc is not None and str(exc) else message
    return ValidationError(detail[:500])


def _parse(data: bytes, max_bytes: int) -> Element:
    if not isinstance(data, bytes | bytearray):
        raise ValidationError("The ReqIF file must be given as bytes.")
    if len(data) > max_bytes:
        raise ValidationError(
            f"The ReqIF file is too large: {len(data):,} bytes, at most {max_bytes:,} are accepted."
        )
    if not data.strip():
        raise ValidationError("The file is empty: it is not a ReqIF document.")
    if data[:4] == b"PK\x03\x04":
        raise ValidationError(
            "The file is a ZIP archive (perhaps .reqifz): unpack it and import the .reqif file."
        )
    try:
        root = fromstring(bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise _refuse(
            "The ReqIF file declares a DTD or entities, which are not accepted", exc
        ) from None
    except (ParseError, ValueError, LookupError, UnicodeError, RecursionError) as exc:
        raise _refuse("The file is not a ReqIF document", exc) from None
    if root.tag != _q("REQ-IF"):
        raise ValidationError(
            f"The file is not a ReqIF document: its root element is <{_local(root.tag) or '?'}>"
            f"{' in another namespace' if _local(root.tag) == 'REQ-IF' else ''}, "
            f"not <REQ-IF> in the namespace {REQIF_NS}."
        )
    return root


def _enum_texts(content: Element) -> dict[str, list[str]]:
    """Each ENUM-VALUE identifier with its texts: LONG-NAME, OTHER-CONTENT, KEY."""
    out: dict[str, list[str]] = {}
    for dt in content.iterfind(f"{_q('DATATYPES')}/{_q('DATATYPE-DEFINITION-ENUMERATION')}"):
        for ev in dt.iterfind(f"{_q('SPECIFIED-VALUES')}/{_q('ENUM-VALUE')}"):
            embedded = ev.find(f"{_q('PROPERTIES')}/{_q('EMBEDDED-VALUE')}")
            texts = [ev.get("LONG-NAME", "")]
            if embedded is not None:
                texts += [embedded.get("OTHER-CONTENT", ""), embedded.get("KEY", "")]
            out[ev.get("IDENTIFIER", "")] = [_nfc(t) for t in texts]
    return out


def _object_types(content: Element) -> dict[str, _ObjectType]:
    out: dict[str, _ObjectType] = {}
    for sot in content.iterfind(f"{_q('SPEC-TYPES')}/{_q('SPEC-OBJECT-TYPE')}"):
        definitions: dict[str, _Definition] = {}
        for ad in sot.iterfind(f"{_q('SPEC-ATTRIBUTES')}/*"):
            field_name, rank = _FIELD_BY_ALIAS.get(_norm(ad.get("LONG-NAME", "")), (None, 0))
            default = None
            for av in ad.iterfind(f"{_q('DEFAULT-VALUE')}/*"):
                raw = _raw_value(av)
                default = raw[1] if raw else None
            definitions[ad.get("IDENTIFIER", "")] = _Definition(field_name, rank, default)
        out[sot.get("IDENTIFIER", "")] = _ObjectType(_nfc(sot.get("LONG-NAME")), definitions)
    return out


def _requirement_types(types: dict[str, _ObjectType]) -> set[str]:
    """The object types that hold requirements: those with a key attribute; failing that, those
    with a title or description. Types named as goals or departments never do."""
    candidates = {
        ref: t.fields()
        for ref, t in types.items()
        if _norm(t.name) not in _GOAL_NAMES | _DEPARTMENT_NAMES | _SOURCE_NAMES
    }
    keyed = {ref for ref, fields in candidates.items() if "key" in fields}
    return keyed or {ref for ref, fields in candidates.items() if fields & {"title", "description"}}


def _fields_of(
    so: Element, object_type: _ObjectType | None, enum_texts: dict[str, list[str]]
) -> dict[str, str]:
    """The record fields an object carries, by the best-ranked non-empty attribute."""
    if object_type is None:
        return {}
    raw: dict[str, str | list[str] | None] = {
        ref: d.default for ref, d in object_type.definitions.items()
    }
    values = so.find(_q("VALUES"))
    for av in values if values is not None else ():
        found = _raw_value(av)
        if found is not None:
            raw[found[0]] = found[1]
    best: dict[str, tuple[int, str]] = {}
    for ref, value in raw.items():
        definition = object_type.definitions.get(ref)
        if definition is None or definition.field is None or value is None:
            continue
        field_name = definition.field
        if field_name in _ENUMS:
            texts = (
                [t for r in value for t in enum_texts.get(r, [r])]
                if isinstance(value, list)
                else [value]
            )
            text = _enum_value(field_name, texts)
        elif isinstance(value, list):
            text = next((t for r in value for t in enum_texts.get(r, [r]) if t), "")
        else:
            text = value
        if text and (field_name not in best or definition.rank < best[field_name][0]):
            best[field_name] = (definition.rank, text)
    return {name: text for name, (_, text) in best.items()}


def _hierarchy_order(content: Element) -> list[str]:
    """The objects the specifications reference, depth first, each once."""
    order: list[str] = []
    seen: set[str] = set()
    for spec in content.iterfind(f"{_q('SPECIFICATIONS')}/{_q('SPECIFICATION')}"):
        stack = list(reversed(spec.findall(f"{_q('CHILDREN')}/{_q('SPEC-HIERARCHY')}")))
        while stack:
            node = stack.pop()
            ref = _ref_text(node, "OBJECT/SPEC-OBJECT-REF")
            if ref and ref not in seen:
                seen.add(ref)
                order.append(ref)
            stack.extend(reversed(node.findall(f"{_q('CHILDREN')}/{_q('SPEC-HIERARCHY')}")))
    return order


def _title_of(root: Element, content: Element | None) -> str:
    title = root.find(f"{_q('THE-HEADER')}/{_q('REQ-IF-HEADER')}/{_q('TITLE')}")
    if title is not None and (title.text or "").strip():
        return _nfc(title.text).strip()
    if content is not None:
        for spec in content.iterfind(f"{_q('SPECIFICATIONS')}/{_q('SPECIFICATION')}"):
            if spec.get("LONG-NAME", "").strip():
                return _nfc(spec.get("LONG-NAME")).strip()
    return ""


def _type_of(so: Element, types: dict[str, _ObjectType]) -> _ObjectType | None:
    return types.get(_ref_text(so, "TYPE/SPEC-OBJECT-TYPE-REF"))


def _relation_kind(*names: str) -> str | None:
    """ "goal", "department" or "source" for the first name (normalised) that says which,
    else None."""
    for name in names:
        if name in _SOURCE_NAMES:
            return "source"
        if name in _GOAL_NAMES:
            return "goal"
        if name in _DEPARTMENT_NAMES:
            return "department"
    return None


def _traces(
    content: Element,
    objects: dict[str, Element],
    requirements: set[str],
    types: dict[str, _ObjectType],
    enum_texts: dict[str, list[str]],
) -> dict[str, dict[str, list[str]]]:
    """The goals and departments of each requirement, by the names of the objects its relations
    reach. The kind comes from the relation type's name, else from the target type's; relations
    written from the goal to the requirement count too."""

    relation_names = {
        rt.get("IDENTIFIER", ""): _norm(rt.get("LONG-NAME", ""))
        for rt in content.iterfind(f"{_q('SPEC-TYPES')}/{_q('SPEC-RELATION-TYPE')}")
    }
    traces: dict[str, dict[str, list[str]]] = {
        ref: {"goal": [], "department": [], "source": []} for ref in requirements
    }
    for rel in content.iterfind(f"{_q('SPEC-RELATIONS')}/{_q('SPEC-RELATION')}"):
        source = _ref_text(rel, "SOURCE/SPEC-OBJECT-REF")
        target = _ref_text(rel, "TARGET/SPEC-OBJECT-REF")
        if source not in requirements and target in requirements:
            source, target = target, source
        if source not in requirements or target not in objects or target in requirements:
            continue
        target_type = _type_of(objects[target], types)
        kind = _relation_kind(
            relation_names.get(_ref_text(rel, "TYPE/SPEC-RELATION-TYPE-REF"), ""),
            _norm(target_type.name) if target_type else "",
        )
        so = objects[target]
        name = _fields_of(so, target_type, enum_texts).get("title") or _nfc(so.get("LONG-NAME"))
        if kind and name:
            traces[source][kind].append(name)
    return traces


def import_reqif(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_records: int = MAX_RECORDS
) -> ReqIFImport:
    """The requirements of a ReqIF document, from this module's export or another tool's.

    Requirements are the SPEC-OBJECTs of the types that carry a key attribute (ReqIF.ForeignID,
    key, ID...), or, in a file with none, a title or description; they come in the order of the
    specifications, then any others in file order. Goals and departments come back through the
    relations to them, by the name of the target object. Records without a key get "";
    enumeration texts the register does not know are kept as written.

    Raises ValidationError when the file is larger than ``max_bytes``, is not XML, declares a
    DTD or entities (an XML bomb, an external entity), is not a REQ-IF document in the ReqIF
    namespace, or holds more than ``max_records`` requirements."""
    root = _parse(data, max_bytes)
    content = root.find(f"{_q('CORE-CONTENT')}/{_q('REQ-IF-CONTENT')}")
    title = _title_of(root, content)
    if content is None:
        return ReqIFImport(records=[], title=title)
    enum_texts = _enum_texts(content)
    types = _object_types(content)
    requirement_types = _requirement_types(types)

    objects: dict[str, Element] = {}
    requirement_ids: list[str] = []
    for so in content.iterfind(f"{_q('SPEC-OBJECTS')}/{_q('SPEC-OBJECT')}"):
        object_id = so.get("IDENTIFIER", "")
        if object_id in objects:
            continue
        objects[object_id] = so
        if _ref_text(so, "TYPE/SPEC-OBJECT-TYPE-REF") in requirement_types:
            requirement_ids.append(object_id)
    if len(requirement_ids) > max_records:
        raise ValidationError(
            f"The ReqIF file holds {len(requirement_ids):,} requirements; at most "
            f"{max_records:,} can be imported at once."
        )
    is_requirement = set(requirement_ids)
    ordered = [ref for ref in _hierarchy_order(content) if ref in is_requirement]
    placed = set(ordered)
    ordered += [ref for ref in requirement_ids if ref not in placed]

    traces = _traces(content, objects, is_requirement, types, enum_texts)
    # the fields the file carries: its requirement types' attributes, and the traces if any
    # requirement has one (a file without them keeps what the register has)
    carried = {
        d.field
        for ref in requirement_types
        if ref in types
        for d in types[ref].definitions.values()
        if d.field
    }
    carried |= {"goals"} if any(traces[r]["goal"] for r in ordered) else set()
    carried |= {"departments"} if any(traces[r]["department"] for r in ordered) else set()
    records = []
    for ref in ordered:
        fields = _fields_of(objects[ref], _type_of(objects[ref], types), enum_texts)
        records.append(
            RequirementRecord(
                key=fields.pop("key", "").strip(),
                title=fields.pop("title", ""),
                goals=tuple(traces[ref]["goal"]),
                departments=tuple(traces[ref]["department"]),
                sources=tuple(traces[ref]["source"]),
                fields=frozenset(carried),
                **fields,
            )
        )
    return ReqIFImport(records=records, title=title)
