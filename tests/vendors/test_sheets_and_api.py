"""Offline scoresheets (XLSX/CSV), the matrix export, the vendor API and the PDF report."""

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from planner.core.errors import ValidationError
from planner.core.permissions import Role
from planner.extensions import db
from planner.projects import service as projects
from planner.vendors import service, sheets
from planner.vendors.models import Score


def scores_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Score))


def reviewer_access(vb, user):
    service.declare_conflicts(db.session, vb.access(user), [])
    db.session.commit()
    return projects.load_access(db.session, vb.project.id, user)


def filled_csv(vb, user, values: dict[tuple[int, int], object]) -> bytes:
    """The reviewer's downloaded CSV with ``values`` typed into the score column."""
    data = sheets.export_scoresheet(db.session, vb.access(user), user, "csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    for row in rows[1:]:
        key = (int(row[1]), int(row[3]))
        if key in values:
            row[5] = str(values[key])
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def test_csv_round_trip_is_all_or_nothing_and_idempotent(vboard):
    mihai = vboard.reviewers[0]
    access = reviewer_access(vboard, mihai)
    v, c = vboard.vendors, vboard.criteria
    good = {(v[0].id, c[0].id): 5, (v[0].id, c[1].id): 4, (v[1].id, c[0].id): 3}
    bad = dict(good) | {(v[1].id, c[1].id): 7}
    with pytest.raises(sheets.ImportRejected) as err:
        sheets.import_scoresheet(db.session, access, filled_csv(vboard, mihai, bad))
    assert any("whole number from 0 to 5" in m for ms in err.value.errors.values() for m in ms)
    db.session.rollback()
    assert scores_count() == 0
    data = filled_csv(vboard, mihai, good)
    assert sheets.import_scoresheet(db.session, access, data) == 3
    db.session.commit()
    assert sheets.import_scoresheet(db.session, access, data) == 0  # the same file again
    db.session.commit()
    assert scores_count() == 3


def test_xlsx_upload_with_unknown_rows_and_another_reviewer(vboard):
    mihai, jonas = vboard.reviewers
    access = reviewer_access(vboard, mihai)
    wb = Workbook()
    ws = wb.active
    ws.append(sheets.SCORESHEET_COLUMNS)
    ws.append(["mihai", vboard.vendors[0].id, "Salesforce", vboard.criteria[0].id, "F", 4, ""])
    ws.append(["mihai", 999999, "Nope", vboard.criteria[0].id, "F", 4, ""])
    ws.append(["mihai", vboard.vendors[0].id, "Salesforce", 888888, "?", 4, ""])
    ws.append(["jonas", vboard.vendors[1].id, "HubSpot", vboard.criteria[0].id, "F", 2, ""])
    ws.append(["mihai", vboard.vendors[1].id, "HubSpot", vboard.criteria[1].id, "F", 2.5, ""])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(sheets.ImportRejected) as err:
        sheets.import_scoresheet(db.session, access, buf.getvalue())
    rows = {e.row: e.message for e in err.value.row_errors}
    assert "unknown vendor" in rows[3] and "unknown criterion" in rows[4]
    assert "reviewer “jonas”" in rows[5] and "whole number" in rows[6]
    db.session.rollback()
    assert scores_count() == 0


def test_garbage_upload_is_refused_clearly(vboard):
    access = reviewer_access(vboard, vboard.reviewers[0])
    with pytest.raises(ValidationError, match="not a readable XLSX"):
        sheets.import_scoresheet(db.session, access, b"PK\x03\x04not really a zip")
    with pytest.raises(ValidationError, match="header"):
        sheets.import_scoresheet(db.session, access, b"just,some\ntext,here\n")


def test_exports_neutralise_formulas(vboard, factory):
    lead_access = vboard.lead_access
    service.create_vendor(db.session, lead_access, name='=HYPERLINK("http://evil")')
    mihai = vboard.reviewers[0]
    reviewer_access(vboard, mihai)
    every = service.vendors(db.session, vboard.project.id)  # the formula-named vendor too
    cells = [(v, c) for v in every for c in vboard.criteria]
    service.put_scores(
        db.session,
        vboard.access(mihai),
        [service.ScoreInput(v.id, c.id, 4, "@SUM(A1:A9)") for v, c in cells],
    )
    db.session.commit()
    vboard.submit(mihai)
    access = projects.load_access(db.session, vboard.project.id, vboard.lead)
    text = sheets.export_matrix(db.session, access, "csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(A1:A9)" in text
    assert ",=HYPERLINK" not in text
    wb = load_workbook(io.BytesIO(sheets.export_matrix(db.session, access, "xlsx")))
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert all(not (isinstance(v, str) and v[:1] in "=+-@") for v in values)


def test_scores_api_validates_every_entry(vboard, api_as):
    mihai = vboard.reviewers[0]
    api = api_as(mihai)
    pid = vboard.project.id
    assert api.put(f"/projects/{pid}/conflicts", {"conflicts": []}).status_code == 200
    v, c = vboard.vendors[0].id, vboard.criteria[0].id
    for bad in (-1, 6, 2.5, "", None, "x"):
        resp = api.put(
            f"/projects/{pid}/scores",
            {"scores": [{"vendor_id": v, "criterion_id": c, "score": bad}]},
        )
        assert resp.status_code == 422, (bad, resp.json)
        assert "0 to 5" in str(resp.json["errors"])
    resp = api.put(
        f"/projects/{pid}/scores", {"scores": [{"vendor_id": "1", "criterion_id": c, "score": 3}]}
    )
    assert resp.status_code == 422
    assert api.put(f"/projects/{pid}/scores", {"oops": []}).status_code == 422
    ok = api.put(
        f"/projects/{pid}/scores",
        [{"vendor_id": v, "criterion_id": c, "score": 4, "comment": "solid"}],
    )
    assert ok.status_code == 200 and ok.json == {"saved": 1, "changed": 1}
    assert scores_count() == 1
    resp = api.put(
        f"/projects/{pid}/conflicts", {"conflicts": [{"vendor_id": 424242, "reason": "x"}]}
    )
    assert resp.status_code == 422


def test_evaluation_api_and_pdf_report(vboard, api_as, factory):
    mihai, jonas = vboard.reviewers
    for r, vals in ((mihai, (5, 4, 3, 5)), (jonas, (1, 4, 3, 4))):
        reviewer_access(vboard, r)
        entries = [
            service.ScoreInput(v.id, c.id, s, "<img src=file:///etc/passwd>")
            for (v, c), s in zip(
                [(v, c) for v in vboard.vendors for c in vboard.criteria], vals, strict=True
            )
        ]
        service.put_scores(db.session, vboard.access(r), entries)
    db.session.commit()
    vboard.submit(mihai, jonas)
    late = factory.member(vboard.project, factory.user("late"), Role.REVIEWER, "Sales")
    lead_api = api_as(vboard.lead)
    body = lead_api.get(f"/projects/{vboard.project.id}/vendor-evaluation").json
    by_name = {v["name"]: v for v in body["vendors"]}
    assert by_name["Salesforce"]["weighted_total"] == pytest.approx(
        100 * (0.75 * 3 / 5 + 0.25 * 4 / 5)
    )
    assert by_name["HubSpot"]["rank"] == 1 and by_name["Salesforce"]["rank"] == 2
    assert len(body["disagreements"]) == 1 and body["kendalls_w"] is not None
    assert set(body["sensitivity"]) == {str(c.id) for c in vboard.criteria}
    assert body["status"] == {
        "round": "open",
        "provisional": True,
        "reviewers": 3,
        "submitted": 2,
        "missing": 1,
        "odds_shown": False,
        "min_sheets_for_odds": 3,
    }
    assert body["monte_carlo"] == {}  # P(first) from two sheets would read as a certainty
    blind = api_as(late).get(f"/projects/{vboard.project.id}/vendor-evaluation")
    assert blind.status_code == 403 and "Blind scoring" in blind.json["detail"]
    pdf = lead_api.get(f"/projects/{vboard.project.id}/vendor-evaluation.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert reader.metadata.title.startswith("Vendor evaluation")
    assert "Provisional" in text and "1 of 3 scoresheets are still missing" in text
    for part in (
        "Method",
        "The board",
        "Ranking",
        "Disagreements",
        "Department view",
        "Sensitivity",
        "Recommendation",
        "HubSpot",
        "Page 1 of",
    ):
        assert part in text, part
    assert "root:" not in text


def test_control_characters_in_names_do_not_break_the_xlsx_export(vboard):
    """XML 1.0 forbids most control characters: a vendor named with one still exports."""
    access = projects.load_access(db.session, vboard.project.id, vboard.lead)
    service.update_vendor(
        db.session, access, vboard.vendors[0], version=None, name="Sales\x0bforce\x01"
    )
    db.session.commit()
    wb = load_workbook(io.BytesIO(sheets.export_matrix(db.session, access, "xlsx")))
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert "Sales force\ufffd" in values  # \x0b is whitespace, collapsed by the name rule
