"""Reading a ReqIF 1.2 document into the register's records: this module's own exports and
other tools' files (DOORS, Polarion, StrictDoc, ReqIF Studio). Parsed through defusedxml (no
DTD, no entities, no external references); attribute names matched case-insensitively against
the usual spellings, enumeration values through their names or keys, XHTML text as plain text.
The vocabulary and the export are :mod:`planner.requirements.reqif`."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from planner.core.errors import ValidationError
from planner.requirements.records import (
    RequirementRecord,
)
from planner.requirements.reqif import (  # the vocabulary both directions share
    _DEPARTMENT_NAMES,
    _ENUM_SYNONYMS,
    _ENUMS,
    _FIELD_ALIASES,
    _GOAL_NAMES,
    _NON_WORD,
    _SOURCE_NAMES,
    _SPACES,
    MAX_BYTES,
    MAX_RECORDS,
    REQIF_NS,
)


@dataclass(frozen=True)
class ReqIFImport:
    """What a ReqIF file holds for the register: its requirements in the order of its
    specification (keys may be empty, enumeration values may be unknown: the caller validates
    them row by row) and the title of the document. Raises nothing."""

    records: list[RequirementRecord]
    title: str


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
