"""The old CRM's exports in the app: the lead uploads one (page and API), sees its profile
with the values it quotes; every other member sees the counts and formats and never a value;
the file is kept encrypted; it is read again another way, or purged; bad files are refused
with nothing stored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from planner.core.audit import AuditEvent
from planner.core.permissions import Role
from planner.extensions import db
from planner.migration.models import MigrationUpload, MigrationUploadPiece
from tests.conftest import csrf_token, login
from tests.migration import files

CUSTOMER = "Иванов Пётр Сергеевич"
EMAIL = "ivanov.petr@example.ru"
EXPORT = (
    "ФИО;Телефон;E-mail;Дата рождения;Компания\r\n"
    f"{CUSTOMER};8 (912) 345-67-89;{EMAIL};31.12.1980;ООО Ромашка\r\n"
    "Петрова Анна;+7 912 000-11-22;anna@example.ru;01.02.1990;ООО Ромашка\r\n"
    "Сидоров Иван;89120001122;;15.07.1985;ИП Сидоров\r\n"
    "Коваленко Олена;+380 44 123 4567;olena@example.ua;03/04/1979;ТОВ Світанок\r\n"
).encode("cp1251")


@pytest.fixture
def rollout(factory):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    reviewer = factory.member(project, factory.user("mihai"), Role.REVIEWER, "Sales")
    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    return project, lead, reviewer, viewer


def _upload(api, project, data=EXPORT, name="bitrix24-contacts.csv"):
    return api.post(
        f"/projects/{project.id}/migration/uploads",
        json=None,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_lead_uploads_and_sees_the_values_the_others_only_the_counts(rollout, api_as):
    project, lead, reviewer, viewer = rollout
    made = _upload(api_as(lead), project)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["rows"] == 4 and body["columns"] == 5 and body["kind"] == "csv"
    assert body["encoding"] == "windows-1251" and body["delimiter"] == ";"
    assert body["values_shown"] is True
    names = [c["name"] for c in body["profile"]["columns"]]
    assert names == ["ФИО", "Телефон", "E-mail", "Дата рождения", "Компания"]
    assert CUSTOMER in json.dumps(body, ensure_ascii=False)  # the lead sees values
    upload_id = body["id"]
    for member in (reviewer, viewer):
        seen = api_as(member).get(f"/projects/{project.id}/migration/uploads/{upload_id}")
        assert seen.status_code == 200
        text = seen.get_data(as_text=True)
        got = seen.get_json()
        assert got["values_shown"] is False and got["rows"] == 4
        assert [c["name"] for c in got["profile"]["columns"]] == names
        for secret in ("Иванов", "Петрова", "ivanov", "912", "Ромашка", "1980"):
            assert secret not in json.loads(text).__repr__() and secret not in text, secret
    listed = api_as(viewer).get(f"/projects/{project.id}/migration/uploads").get_json()
    assert [u["filename"] for u in listed["items"]] == ["bitrix24-contacts.csv"]


def test_a_non_member_gets_404_and_others_may_not_upload(rollout, api_as, factory):
    project, lead, reviewer, _viewer = rollout
    upload_id = _upload(api_as(lead), project).get_json()["id"]
    stranger = api_as(factory.user("mallory"))
    assert stranger.get(f"/projects/{project.id}/migration/uploads/{upload_id}").status_code == 404
    assert _upload(stranger, project).status_code == 404
    assert _upload(api_as(reviewer), project).status_code == 403
    assert _count(MigrationUpload) == 1


def test_the_file_and_the_values_are_encrypted_at_rest_and_audited_without_values(
    rollout, api_as, app
):
    project, lead, _reviewer, _viewer = rollout
    upload_id = _upload(api_as(lead), project).get_json()["id"]
    row = db.session.get(MigrationUpload, upload_id)
    pieces = db.session.scalars(select(MigrationUploadPiece.data)).all()
    stored = b"".join(pieces) + (row.sealed_values or b"")
    assert pieces and row.pieces == len(pieces)
    for secret in (CUSTOMER, EMAIL, "Ромашка"):
        for encoding in ("cp1251", "utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in stored, (secret, encoding)
    assert CUSTOMER not in json.dumps(row.aggregates, ensure_ascii=False)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):  # the database file itself: no customer in it
        db.session.commit()
        raw = Path(uri.removeprefix("sqlite:///")).read_bytes()
        for wal in Path(uri.removeprefix("sqlite:///") + "-wal").parent.glob("*-wal"):
            raw += wal.read_bytes()
        for secret in (CUSTOMER, EMAIL):
            assert secret.encode("cp1251") not in raw and secret.encode() not in raw
    trail = " ".join(
        f"{e.summary} {json.dumps(e.after, ensure_ascii=False)}"
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("migration.%")))
    )
    assert "bitrix24-contacts.csv" in trail and "uploaded and profiled: 4 rows" in trail
    for secret in ("Иванов", "ivanov", "912", "Ромашка"):
        assert secret not in trail


@pytest.mark.parametrize(
    ("data", "name", "named"),
    [
        (b"", "empty.csv", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "export.csv", "PDF"),
        (b"<!DOCTYPE html><html><body><table><tr><td>x</td></tr></table></body></html>",
         "export.csv", "HTML"),
        ("ФИО;Телефон\r\n".encode("cp1251"), "header-only.csv", "no rows"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_is_refused_and_nothing_is_stored(
    rollout, api_as, data, name, named
):
    project, lead, _reviewer, _viewer = rollout
    refused = _upload(api_as(lead), project, data, name)
    assert refused.status_code == 422, refused.get_json()
    assert named.lower() in refused.get_json()["detail"].lower()
    assert _count(MigrationUpload) == 0 and _count(MigrationUploadPiece) == 0


def test_a_file_over_the_limit_is_refused_before_it_is_read(rollout, api_as, app, monkeypatch):
    """An export has its own limit, larger than other uploads': a file over the app's limit
    but under the export's is profiled; one over the export's limit is refused with 413."""
    project, lead, _reviewer, _viewer = rollout
    over_the_app = b"a;b\r\n" + b"1;2\r\n" * (app.config["MAX_CONTENT_LENGTH"] // 5 + 10)
    assert len(over_the_app) < app.config["MIGRATION_MAX_UPLOAD_BYTES"]
    taken = _upload(api_as(lead), project, over_the_app, "big.csv")
    assert taken.status_code == 201, taken.get_json()
    monkeypatch.setitem(app.config, "MIGRATION_MAX_UPLOAD_BYTES", 10_000)
    refused = _upload(api_as(lead), project, b"a;b\r\n" + b"1;2\r\n" * 20_000, "bigger.csv")
    assert refused.status_code == 413
    assert "too large" in refused.get_json()["detail"].lower()
    assert _count(MigrationUpload) == 1


def test_no_file_is_a_clear_422(rollout, api_as):
    project, lead, _reviewer, _viewer = rollout
    refused = api_as(lead).post(
        f"/projects/{project.id}/migration/uploads",
        json=None,
        data={},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "file" in refused.get_json()["detail"]


def test_read_again_another_way_refuses_stale_and_unknown_choices(rollout, api_as):
    project, lead, _reviewer, _viewer = rollout
    api = api_as(lead)
    made = _upload(api, project).get_json()
    url = f"/projects/{project.id}/migration/uploads/{made['id']}"
    wrong = api.patch(url, json={"version": made["version"], "encoding": "windows-1252"})
    assert wrong.status_code == 200, wrong.get_json()
    again = wrong.get_json()
    assert again["encoding"] == "windows-1252" and again["chosen"] == {"encoding": "windows-1252"}
    assert CUSTOMER not in json.dumps(again["profile"], ensure_ascii=False)  # mojibake now
    assert (
        api.patch(url, json={"version": made["version"], "encoding": "windows-1251"}).status_code
        == 409
    )
    assert (
        api.patch(url, json={"version": again["version"], "encoding": "ebcdic"}).status_code == 422
    )
    assert api.patch(url, json={"version": again["version"], "header_row": 0}).status_code == 422
    back = api.patch(url, json={"version": again["version"], "encoding": "windows-1251"}).get_json()
    assert CUSTOMER in json.dumps(back["profile"], ensure_ascii=False)
    # a delimiter that makes every line one column: said, with the one detection finds
    comma = api.patch(url, json={"version": back["version"], "delimiter": ","}).get_json()
    assert comma["columns"] == 1
    note = next(n for n in comma["profile"]["notes"] if n.startswith("Delimiter"))
    assert "every line is one column with it; the semicolon gives" in note


def test_purge_deletes_the_rows_and_keeps_the_counts(rollout, api_as, client):
    project, lead, _reviewer, _viewer = rollout
    api = api_as(lead)
    made = _upload(api, project).get_json()
    url = f"/projects/{project.id}/migration/uploads/{made['id']}"
    login(client, "ana")
    page = f"/projects/{project.id}/migration/uploads/{made['id']}/purge"
    asked = client.get(page)
    assert asked.status_code == 200 and "cannot be undone" in asked.get_data(as_text=True)
    assert client.post(page, data={"csrf_token": csrf_token(client, page)}).status_code == 302
    row = db.session.get(MigrationUpload, made["id"])
    db.session.refresh(row)
    assert row.purged and row.sealed_values is None and _count(MigrationUploadPiece) == 0
    kept = api.get(url).get_json()
    assert kept["rows"] == 4 and kept["purged_at"] and kept["values_shown"] is False
    assert [c["name"] for c in kept["profile"]["columns"]][0] == "ФИО"
    assert api.raw("DELETE", url).status_code == 409
    assert (
        api.patch(url, json={"version": kept["version"], "encoding": "windows-1251"}).status_code
        == 409
    )


def test_the_pages_upload_show_and_read_again(rollout, client, login_as):
    project, _lead, _reviewer, _viewer = rollout
    login(client, "ana")
    base = f"/projects/{project.id}/migration"
    index = client.get(base)
    assert index.status_code == 200 and "Upload and profile" in index.get_data(as_text=True)
    empty = client.post(f"{base}/uploads", data={"csrf_token": csrf_token(client, base)})
    assert empty.status_code == 422 and "Choose the file to upload." in empty.get_data(as_text=True)
    made = client.post(
        f"{base}/uploads",
        data={"csrf_token": csrf_token(client, base), "file": (io.BytesIO(EXPORT), "export.csv")},
        content_type="multipart/form-data",
    )
    assert made.status_code == 302
    shown = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "export.csv" in shown and CUSTOMER in shown and "Windows-1251" in shown
    assert "How it was read: Encoding: Windows-1251" in shown
    attention = shown.split('id="attention-h"')[1].split("</section>")[0]  # the gist first
    assert "Дата рождения: 1 ambiguous date (day or month?)" in attention
    assert "Every line is read as one column" not in shown
    reviewer = client.application.test_client()
    login(reviewer, "mihai")
    theirs = reviewer.get(made.headers["Location"]).get_data(as_text=True)
    assert "export.csv" in theirs and "ФИО" in theirs and CUSTOMER not in theirs
    assert "Upload and profile" not in reviewer.get(base).get_data(as_text=True)


def test_exports_are_purged_some_days_after_the_migration_gate_passed(
    rollout, api_as, factory, runner, app
):
    from datetime import timedelta

    from planner.core.db import utcnow
    from planner.projects import service as projects
    from planner.projects.models import GateDecision
    from planner.projects.phases import GateOutcome

    project, lead, _reviewer, _viewer = rollout
    old = _upload(api_as(lead), project).get_json()["id"]
    other_lead = factory.user("ion")
    recent_project = factory.project(other_lead, name="Another rollout")
    recent = _upload(api_as(other_lead), recent_project).get_json()["id"]
    days = app.config["MIGRATION_PURGE_DAYS"]
    for p, ago in ((project, days + 1), (recent_project, days - 1)):
        phase = projects.get_phase(db.session, p.id, "migration")
        db.session.add(
            GateDecision(
                phase_id=phase.id,
                outcome=GateOutcome.PASS,
                decided_at=utcnow() - timedelta(days=ago),
            )
        )
    db.session.commit()
    done = runner.invoke(args=["purge-exports"])
    assert done.exit_code == 0 and done.output.startswith("1 export purged"), done.output
    db.session.expire_all()
    assert db.session.get(MigrationUpload, old).purged
    assert not db.session.get(MigrationUpload, recent).purged
    assert _count(MigrationUploadPiece) == db.session.get(MigrationUpload, recent).pieces
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "migration.purge", AuditEvent.entity_id == old
        )
    )
    assert event.actor_id is None and f"{days} days after the migration gate" in event.summary
    assert runner.invoke(args=["purge-exports"]).output.startswith("0 exports purged")


def _xlsx(rows: list[list[str]]) -> bytes:
    from planner.core.sheets import xlsx_bytes

    return xlsx_bytes([("Contacts", rows)])


def _zip_bomb() -> bytes:
    """An XLSX whose worksheet unpacks to 200 MB of blanks (a few hundred KB packed)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b" " * (4 * 1024 * 1024)
            for _ in range(50):
                f.write(chunk)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "rows", "encoding"),
    [
        (EXPORT.decode("cp1251").encode("utf-16"), "contacts-utf16.csv", 4, "utf-16"),
        (
            _xlsx([["Name", "Phone", "Email"], ["Ana Pop", "+40 721 000 000", "ana@example.ro"]]),
            "contacts.xlsx",
            1,
            None,
        ),
    ],
)
def test_utf16_and_xlsx_exports_are_read(rollout, api_as, data, name, rows, encoding):
    project, lead, _reviewer, _viewer = rollout
    made = _upload(api_as(lead), project, data, name)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["rows"] == rows and body["kind"] == ("xlsx" if name.endswith("xlsx") else "csv")
    if encoding:
        assert body["encoding"] == encoding


def test_a_zip_bomb_is_refused_and_nothing_is_stored(rollout, api_as):
    project, lead, _reviewer, _viewer = rollout
    refused = _upload(api_as(lead), project, _zip_bomb(), "contacts.xlsx")
    assert refused.status_code == 422, refused.get_json()
    assert "contacts.xlsx" in refused.get_json()["detail"]
    assert _count(MigrationUpload) == 0 and _count(MigrationUploadPiece) == 0


def test_ragged_rows_are_counted_and_too_many_fields_refused(rollout, api_as):
    project, lead, _reviewer, _viewer = rollout
    short = b"Name;Phone;Email\r\nAna;1;a@example.ro\r\nIon;2\r\nEva;3;e@example.ro\r\n"
    made = _upload(api_as(lead), project, short, "short.csv")
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["profile"]["ragged"]["rows"] == 1
    long = b"Name;Phone\r\nAna;1\r\nIon;2;extra;more\r\n"
    refused = _upload(api_as(lead), project, long, "long.csv")
    assert refused.status_code == 422 and "long.csv" in refused.get_json()["detail"]
    assert _count(MigrationUpload) == 1


def test_the_profile_page_counts_every_duplicate_group_and_says_how_many_it_lists(
    rollout, api_as, client, tmp_path
):
    project, lead, _reviewer, _viewer = rollout
    lines = (
        ["ФИО;E-mail"]
        + [
            f"Клиент {i};client{i // 2}@example.ru"
            for i in range(240)  # 120 pairs of one e-mail
        ]
        + ["Без адреса;nobody@"]
    )
    made = _upload(api_as(lead), project, ("\r\n".join(lines) + "\r\n").encode("cp1251"), "d.csv")
    assert made.status_code == 201, made.get_json()
    login(client, "ana")
    page = client.get(f"/projects/{project.id}/migration/uploads/{made.get_json()['id']}")
    text = page.get_data(as_text=True)
    assert "same e-mail: 120" in text
    assert "The first 100 of 120 groups, by their first row" in text
    assert text.count("invalid: 1") == 1  # the e-mail column's invalid address, said once
    # groups found for several reasons are listed once: all listed, no "first N of M"
    bitrix = _upload(api_as(lead), project, files.bitrix24(tmp_path).read_bytes(), "b.csv")
    shown = client.get(f"/projects/{project.id}/migration/uploads/{bitrix.get_json()['id']}")
    assert "also: same e-mail, same phone" in shown.get_data(as_text=True)
    assert "The first" not in shown.get_data(as_text=True)


def test_an_empty_file_and_a_recipe_without_a_key_say_what_to_do(rollout, api_as, client):
    project, lead, _reviewer, _viewer = rollout
    login(client, "ana")
    base = f"/projects/{project.id}/migration"
    empty = client.post(
        f"{base}/uploads",
        data={"csrf_token": csrf_token(client, base), "file": (io.BytesIO(b""), "empty.csv")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 422
    assert "The file is empty: choose the export the old CRM wrote." in empty.get_data(as_text=True)
    from planner.core.errors import ValidationError
    from planner.migration import recipe as engine

    with pytest.raises(ValidationError) as refused:
        engine.parse({"format": "planner-migration-recipe", "format_version": 1, "entity": "x"})
    said = refused.value.errors["key"][0]
    assert said.startswith("The recipe names no key") and "None" not in said
