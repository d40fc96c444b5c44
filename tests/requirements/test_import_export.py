"""Import and export of the register: CSV, XLSX and ReqIF, previewed, all or nothing."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from planner.core.audit import AuditEvent
from planner.extensions import db
from planner.goals import service as goals
from planner.projects import service as projects
from planner.requirements import imports, service
from planner.requirements.models import ImportDraft, Requirement, RequirementRevision
from planner.requirements.records import RequirementRecord
from planner.requirements.reqif import export_reqif
from tests.conftest import csrf_token


@pytest.fixture
def register(factory, api_as):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="CRM rollout")
    access = factory.lead_access(project)
    pipeline = goals.create_goal(
        db.session,
        access,
        statement="A transparent sales pipeline\n\nRO: un sistem de vânzări transparent",
        department_id=None,
    )
    complaints = goals.create_goal(
        db.session, access, statement="客户投诉在48小时内处理", department_id=None
    )
    sales = projects.department_by_name(db.session, project.id, "Sales")
    service.create_requirement(
        db.session,
        access,
        title='=HYPERLINK("http://evil") track calls',
        type="functional",
        priority="must",
        status="proposed",
        module="Sales process",
        acceptance_criterion="+1 call logged within a minute",
        goal_ids=[pipeline.id],
        department_ids=[sales.id],
    )
    service.create_requirement(
        db.session,
        access,
        title="Beschwerdemanagement",
        type="functional",
        priority="should",
        status="accepted",
        goal_ids=[complaints.id],
    )
    db.session.commit()
    return project, access, api_as(lead)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_exports_neutralise_formulas_and_round_trip_unchanged(register):
    project, access, api = register
    base = f"/projects/{project.id}/requirements"
    csv_resp = api.get(f"{base}/export.csv")
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    text = csv_resp.get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1 call" in text
    xlsx = api.get(f"{base}/export.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    cells = [c.value for row in ws.iter_rows() for c in row if c.value]
    assert any(str(v).startswith("'=HYPERLINK") for v in cells)
    assert "A transparent sales pipeline" in cells  # a goal by its first line
    for fmt in ("csv", "xlsx", "reqif"):
        data = api.get(f"{base}/export.{fmt}").get_data()
        resp = api.raw(
            "POST",
            f"{base}/import?dry_run=true",
            data={"file": (io.BytesIO(data), f"register.{fmt}")},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 200, (fmt, resp.json)
        assert (resp.json["new"], resp.json["updated"], resp.json["unchanged"]) == (0, 0, 2), fmt
    filtered = api.get(f"{base}/export.csv?priority=must").get_data().decode("utf-8-sig")
    assert "HYPERLINK" in filtered and "Beschwerdemanagement" not in filtered


def test_a_reqif_import_adds_and_revises(register):
    project, access, api = register
    doc = export_reqif(
        [
            RequirementRecord(
                key="REQ-002",
                title="Beschwerdemanagement mit Eskalation",
                priority="Must have",
                status="accepted",
                goals=("客户投诉在48小时内处理",),
            ),
            RequirementRecord(
                key="",
                title="Campaign lists from the customer records",
                priority="could",
                departments=("Marketing",),
            ),
        ],
        title="From DOORS",
        identifier="doors-1",
        created=datetime(2026, 12, 1, tzinfo=UTC),
    )
    base = f"/projects/{project.id}/requirements"
    dry = api.raw("POST", f"{base}/import?dry_run=1", data=doc, content_type="application/xml")
    assert dry.status_code == 200, dry.json
    rows = {r["where"]: r for r in dry.json["rows"]}
    assert rows["requirement 1 (REQ-002)"]["changed"] == ["title", "priority"]
    assert rows["requirement 2"]["action"] == "new"
    assert _count(Requirement) == 2  # a dry run saves nothing
    done = api.raw("POST", f"{base}/import", data=doc, content_type="application/xml")
    assert done.status_code == 200 and done.json["applied"] is True
    listed = {r["key"]: r for r in api.get(base).json["items"]}
    assert listed["REQ-002"]["revision"] == 2 and listed["REQ-002"]["priority"] == "must"
    assert listed["REQ-003"]["departments"][0]["name"] == "Marketing"
    summary = db.session.scalar(
        select(AuditEvent.summary).where(AuditEvent.action == "requirement.import")
    )
    assert "1 new requirement, 1 revised requirement, 0 unchanged" in summary


def test_a_bad_file_is_refused_whole_with_every_problem_named(register):
    project, access, api = register
    base = f"/projects/{project.id}/requirements"
    sheet = (
        "Key;Title;Priority;Goals;Source departments\r\n"
        "REQ-001;Track calls;must;;\r\n"
        "REQ-001;Track calls again;must;;\r\n"
        ";A new one;urgent;;\r\n"
        ";;must;;\r\n"
        "REQ-099;Not ours;must;;\r\n"
        "banana;Not a key;must;;\r\n"
        ";Serves a stranger;must;Some other goal;Purchasing\r\n"
    ).encode("cp1252")
    before = (_count(Requirement), _count(RequirementRevision))
    resp = api.raw(
        "POST",
        f"{base}/import",
        data={"file": (io.BytesIO(sheet), "register.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422, resp.json
    errors = resp.json["errors"]
    assert "REQ-001 is in row 2 already" in errors["row 3"][0]
    assert "priority" in errors["row 4"][0]
    assert "title" in errors["row 5"][0]
    assert "REQ-099 is not in this register" in errors["row 6"][0]
    assert "row 7" not in errors  # another tool's key ("banana"): a new requirement
    assert any("No goal “Some other goal”" in m for m in errors["row 8"])
    assert any("No department “Purchasing”" in m for m in errors["row 8"])
    assert resp.json["detail"].startswith("7 problems in the file; nothing was imported.")
    assert (_count(Requirement), _count(RequirementRevision)) == before


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG image"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><REQ-IF>&b;</REQ-IF>',
            "DTD",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<REQ-IF>&x;</REQ-IF>",
            "DTD",
        ),
        (b"", "empty"),
    ],
    ids=["png", "xml-bomb", "external-entity", "empty"],
)
def test_hostile_files_are_refused(register, data, words):
    project, _access, api = register
    resp = api.raw(
        "POST",
        f"/projects/{project.id}/requirements/import",
        data=data,
        content_type="application/octet-stream",
    )
    assert resp.status_code == 422 and words.lower() in resp.json["detail"].lower(), resp.json
    assert _count(Requirement) == 2


def test_the_page_previews_then_imports_and_refuses_a_stale_preview(register, client, login_as):
    project, access, _api = register
    login_as("ana")
    url = f"/projects/{project.id}/requirements/import"
    sheet = "Title,Priority,Goals\r\nNightly backups,must,A transparent sales pipeline\r\n"
    resp = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(sheet.encode()), "r.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    preview_url = resp.headers["Location"]
    preview = client.get(preview_url)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Nightly backups" in html and "1 new requirement" in html
    assert _count(Requirement) == 2
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]{64})"', html).group(1)
    token = csrf_token(client, preview_url)
    done = client.post(preview_url, data={"csrf_token": token, "digest": digest})
    assert done.status_code == 302 and _count(Requirement) == 3
    assert _count(ImportDraft) == 0
    # a preview whose plan changed is refused
    update = "Key,Title\r\nREQ-001,Track calls\r\n"
    resp = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(update.encode()), "u.csv")},
        content_type="multipart/form-data",
    )
    preview_url = resp.headers["Location"]
    seen = re.search(
        r'name="digest" type="hidden" value="([0-9a-f]{64})"',
        client.get(preview_url).get_data(as_text=True),
    ).group(1)
    req = service.get_requirement(
        db.session,
        project.id,
        db.session.scalar(select(Requirement.id).where(Requirement.number == 1)),
    )
    service.update_requirement(
        db.session,
        access,
        req,
        version=None,
        title="Track calls",
        description="",
        type="functional",
        priority="must",
        status="proposed",
        module="",
        acceptance_criterion="",
        goal_ids=[],
        department_ids=[],
    )
    db.session.commit()
    refused = client.post(
        preview_url, data={"csrf_token": token, "digest": seen}, follow_redirects=True
    )
    assert "changed since the preview" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Requirement.revision).where(Requirement.number == 1)) == 2
    # a bad sheet on the page: the problems listed, nothing kept
    bad = client.post(
        url,
        data={
            "csrf_token": token,
            "file": (io.BytesIO(b"Title,Priority\r\nX,urgent\r\n"), "b.csv"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "row 2" in bad.get_data(as_text=True)
    assert imports.MAX_IMPORT == 5000


def test_a_sheet_without_a_column_keeps_that_field_and_the_preview_says_how_it_read(
    register, client, login_as
):
    """A sheet to change priorities only: descriptions, modules, criteria, goals and
    departments stay as the register has them; the preview names each column's field."""
    project, access, api = register
    base = f"/projects/{project.id}/requirements"
    before = api.get(f"{base}?q=hyperlink").json["items"][0]
    sheet = (
        "Key;Title;MoSCoW;Notes\r\nREQ-001;" + before["title"].replace('"', '""') + ";could;x\r\n"
    )
    sheet = sheet.replace(
        before["title"].replace('"', '""'), '"' + before["title"].replace('"', '""') + '"'
    )
    dry = api.raw(
        "POST",
        f"{base}/import?dry_run=true",
        data=sheet.encode("cp1252"),
        content_type="text/csv",
    )
    assert dry.status_code == 200, dry.json
    assert dry.json["rows"][0]["changed"] == ["priority"]
    login_as("ana")
    url = f"{base}/import"
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "file": (io.BytesIO(sheet.encode("cp1252")), "priorities.csv"),
        },
        content_type="multipart/form-data",
    )
    preview = re.sub(r"<[^>]+>", "", client.get(resp.headers["Location"]).get_data(as_text=True))
    assert "“MoSCoW” → priority" in preview and "“Notes” → left out" in preview
    assert "fields separated by “;”" in preview
    done = api.raw("POST", f"{base}/import", data=sheet.encode("cp1252"), content_type="text/csv")
    assert done.status_code == 200
    after = api.get(f"{base}/{before['id']}").json
    assert after["priority"] == "could" and after["revision"] == before["revision"] + 1
    for kept in ("description", "module", "acceptance_criterion", "goals", "departments"):
        assert after[kept] == before[kept], kept


def test_goals_two_of_which_read_alike_are_named_apart(register):
    project, access, api = register
    for text in ("Pipeline\nfor sales", "Pipeline\nfor service"):
        goals.create_goal(db.session, access, statement=text, department_id=None)
    db.session.commit()
    base = f"/projects/{project.id}/requirements"
    ambiguous = api.raw(
        "POST",
        f"{base}/import?dry_run=true",
        data=b"Title,Goals\r\nTrack calls,Pipeline\r\n",
        content_type="text/csv",
    )
    assert ambiguous.status_code == 422
    assert "2 goals read “Pipeline”" in ambiguous.json["errors"]["row 2"][0]
    whole = api.raw(
        "POST",
        f"{base}/import",
        data=b"Title,Goals\r\nTrack calls,Pipeline for service\r\n",
        content_type="text/csv",
    )
    assert whole.status_code == 200, whole.json
    made = api.get(f"{base}?q=req-3").json["items"][0]
    assert [g["statement"] for g in made["goals"]] == ["Pipeline\nfor service"]
    # the register's own export names them apart, and reads back as it was
    data = api.get(f"{base}/export.xlsx").get_data()
    again = api.raw(
        "POST",
        f"{base}/import?dry_run=true",
        data={"file": (io.BytesIO(data), "register.xlsx")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 200, again.json
    assert again.json["updated"] == 0 and again.json["new"] == 0


def test_another_tools_keys_are_new_requirements_said_so(register):
    project, access, api = register
    doc = export_reqif(
        [RequirementRecord(key="123", title="From DOORS", priority="Must have")],
        title="DOORS export",
        identifier="doors-2",
        created=datetime(2026, 12, 1, tzinfo=UTC),
    )
    base = f"/projects/{project.id}/requirements"
    dry = api.raw("POST", f"{base}/import?dry_run=true", data=doc, content_type="application/xml")
    assert dry.status_code == 200, dry.json
    (row,) = dry.json["rows"]
    assert row["action"] == "new" and "“123” is another tool's key" in row["note"]
