"""The pilot and reconciliation pages, ``planner migrate apply`` giving exactly what the page
previews, and the migration report (PDF, a background job) quoting no customer value."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

from pypdf import PdfReader
from sqlalchemy import select

from planner.core.audit import AuditEvent
from planner.extensions import db
from planner.migration.models import MigrationReconciliation
from tests.conftest import csrf_token, login
from tests.migration import files
from tests.report_flow import documented_like_a_report, fetch_through_the_api, prepare_on_the_page


def test_the_pilot_and_reconciliation_pages_for_the_lead_and_for_a_viewer(
    rollout, piloted, client, app
):
    project, _lead, _viewer = rollout
    _base, _upload, recipe, pilot = piloted
    page = f"/projects/{project.id}/migration/pilots/{pilot['id']}"
    other = app.test_client()
    login(other, "vera")
    seen = other.get(page).get_data(as_text=True)
    assert "only the project lead sees the pilot" in seen
    assert all((r.get("email") or "") not in seen for r in pilot["records"] if r.get("email"))
    login(client, "ana")
    shown = client.get(page).get_data(as_text=True)
    assert "Download as CSV" in shown and "Reconcile" in shown
    assert client.post(f"{page}.csv").status_code == 400  # no CSRF token
    token = csrf_token(client, page)
    file = client.post(f"{page}.xlsx", data={"csrf_token": token})
    assert file.status_code == 200 and file.data[:2] == b"PK"
    empty = client.post(
        f"{page}/reconciliations",
        data={"csrf_token": token, "file": (io.BytesIO(b""), "crm.csv")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 422 and "The file is empty." in empty.get_data(as_text=True)
    sent = client.post(
        f"{page}/reconciliations",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(files.returned_by_crm(pilot, recipe, drop_first=True)), "crm.csv"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    report = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "not explained yet" in report
    row = db.session.scalars(select(MigrationReconciliation)).one()
    first = row.summary["differences"][0]["id"]
    explained = client.post(
        f"/projects/{project.id}/migration/reconciliations/{row.id}/differences/{first}",
        data={
            "csrf_token": token,
            "text": "Пропущен при импорте: повторим",
            "version": str(row.version),
        },
    )
    assert explained.status_code == 302
    db.session.refresh(row)
    assert row.explanations[first]["text"] == "Пропущен при импорте: повторим"
    stale = client.post(
        f"/projects/{project.id}/migration/reconciliations/{row.id}/differences/{first}",
        data={"csrf_token": token, "text": "again", "version": str(row.version - 1)},
    )
    assert stale.status_code == 409
    too_long = client.post(
        f"/projects/{project.id}/migration/reconciliations/{row.id}/differences/{first}",
        data={"csrf_token": token, "text": "x" * 2001, "version": str(row.version)},
    )
    assert too_long.status_code == 422
    db.session.refresh(row)
    assert row.explanations[first]["text"] == "Пропущен при импорте: повторим"


def test_migrate_apply_writes_what_the_preview_shows(rollout, piloted, api_as, runner, tmp_path):
    project, lead, _viewer = rollout
    base, upload, recipe, _pilot = piloted
    recipe_file = tmp_path / "recipe.json"
    recipe_file.write_text(json.dumps(recipe["document"], ensure_ascii=False), encoding="utf-8")
    (tmp_path / "in").mkdir()
    export = files.bitrix24(tmp_path / "in")
    out, rejects = tmp_path / "cleaned.csv", tmp_path / "rejects.csv"
    result = runner.invoke(
        args=[
            "migrate", "apply", str(recipe_file), str(export), "-o", str(out),
            "--rejects", str(rejects), "--record", str(project.id),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    db.session.rollback()  # the test's snapshot predates the run's audit event
    run = json.loads(result.output)
    assert run["summary"]["rows"] == len(files.BITRIX_ROWS)
    assert len(run["output"]["sha256"]) == 64
    written = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    preview = api_as(lead).get(f"{base}/recipes/{recipe['id']}/preview?limit=200").get_json()
    kept = [r for r in preview["rows"] if not r["rejected"]]
    if not recipe["document"].get("merge"):
        assert len(written) == len(kept) == run["summary"]["kept"]
        for line, shown in zip(written, kept, strict=True):
            expected = {k: (v or "") for k, v in shown["fields"].items()}
            assert {k: v.removeprefix("'") for k, v in line.items()} == {
                k: v.removeprefix("'") for k, v in expected.items()
            }
    assert rejects.exists()
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "migration.apply")
    ).one()
    assert audited.project_id == project.id and audited.actor_id is None
    again = runner.invoke(
        args=["migrate", "apply", str(recipe_file), str(export), "-o", str(tmp_path / "b.csv")]
    )
    assert again.exit_code == 0 and (tmp_path / "b.csv").read_bytes() == out.read_bytes()


def test_migrate_apply_refuses_a_bad_recipe_and_a_missing_column(runner, tmp_path):
    export = files.bitrix24(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "planner-migration-recipe", "format_version": 1}', "utf-8")
    refused = runner.invoke(
        args=["migrate", "apply", str(bad), str(export), "-o", str(tmp_path / "o.csv")]
    )
    assert refused.exit_code == 1 and "entity" in refused.output
    assert not (tmp_path / "o.csv").exists()
    broken = tmp_path / "broken.json"
    broken.write_text("{nope", "utf-8")
    assert (
        runner.invoke(args=["migrate", "apply", str(broken), str(export), "-o", "x.csv"]).exit_code
        != 0
    )
    document = {
        "format": "planner-migration-recipe",
        "format_version": 1,
        "entity": "contacts",
        "region": "RU",
        "key": "email",
        "fields": [
            {
                "name": "email",
                "label": "E-mail",
                "type": "email",
                "required": True,
                "sensitive": True,
                "values": [],
            }
        ],
        "rules": [{"field": "email", "from": ["Почта"], "transform": "email", "options": {}}],
    }
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    result = runner.invoke(
        args=["migrate", "apply", str(missing), str(export), "-o", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 1 and "Почта" in result.output
    assert not (tmp_path / "o.csv").exists()


def test_the_migration_report_quotes_no_customer_value(
    rollout, piloted, client, api_as, monkeypatch
):
    project, lead, viewer = rollout
    base, _upload, _recipe, pilot = piloted
    api_as(lead).put(
        f"{base}/plan",
        json={
            "approach": "incremental",
            "batch_size": 500,
            "entity_order": ["Компании", "Контакты"],
            "version": 0,
        },
    )
    login(client, "vera")
    pdf = prepare_on_the_page(
        client, f"/projects/{project.id}/migration/report.pdf", project.id, "Data migration"
    )
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for expected in (
        "bitrix24-contacts.csv",
        "Recipe of contacts",
        "Телефон",
        "Компании",
        "The gate",
        "Earlier phases have passed their gates",  # the whole gate, as the phase page says
    ):
        assert expected in text, expected
    for record in pilot["records"]:
        for value in record.values():
            if value and len(value) > 4 and not value.replace(".", "").isdigit():
                assert value not in text, value
    for row in files.BITRIX_ROWS:
        assert row[1] not in text and (not row[4] or row[4] not in text)
    attached = reader.attachments
    assert "recipe-contacts.json" in attached
    assert json.loads(attached["recipe-contacts.json"][0])["entity"] == "contacts"


def test_the_migration_report_through_the_api(rollout, piloted, api_as, monkeypatch):
    _project, lead, _viewer = rollout
    base = piloted[0]
    api = fetch_through_the_api(api_as(lead), f"{base}/report.pdf", monkeypatch, "migration.report")
    assert PdfReader(io.BytesIO(api.data)).metadata.title.startswith("Data migration")
    documented_like_a_report(api_as(lead), f"{base}/report.pdf", "view")


def _statements(client, path: str) -> int:
    from sqlalchemy import event

    seen = [0]

    def tick(*_args) -> None:
        seen[0] += 1

    event.listen(db.engine, "before_cursor_execute", tick)
    try:
        assert client.get(path).status_code == 200, path
    finally:
        event.remove(db.engine, "before_cursor_execute", tick)
    return seen[0]


def test_the_migration_pages_run_as_many_statements_with_more_pilots_and_reconciliations(
    rollout, piloted, client, api_as
):
    project, lead, _viewer = rollout
    base, upload, recipe, pilot = piloted
    login(client, "ana")
    pages = [
        f"/projects/{project.id}/migration",
        f"/projects/{project.id}/migration/uploads/{upload['id']}",
        f"/projects/{project.id}/migration/recipes/{recipe['id']}",
        f"/projects/{project.id}/migration/pilots/{pilot['id']}",
        f"/projects/{project.id}/migration/plan",
        f"/projects/{project.id}/phases/migration",
    ]

    def reconcile_once() -> int:
        sent = api_as(lead).post(
            f"{base}/pilots/{pilot['id']}/reconciliations",
            json=None,
            data={
                "file": (
                    io.BytesIO(files.returned_by_crm(pilot, recipe, drop_first=True)),
                    "crm.csv",
                )
            },
            content_type="multipart/form-data",
        )
        assert sent.status_code == 201, sent.get_json()
        return sent.get_json()["id"]

    first = reconcile_once()
    pages.append(f"/projects/{project.id}/migration/reconciliations/{first}")
    before = [_statements(client, page) for page in pages]
    for _ in range(4):
        api_as(lead).post(f"{base}/recipes/{recipe['id']}/pilots", json={"size": 3})
        reconcile_once()
    assert [_statements(client, page) for page in pages] == before


def test_migrate_apply_checks_the_rollout_before_it_writes(runner, tmp_path):
    export = files.bitrix24(tmp_path)
    recipe_file = tmp_path / "recipe.json"
    from planner.migration import targets

    document = targets.suggest(list(files.BITRIX_HEADER), "contacts").as_document()
    recipe_file.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    out = tmp_path / "out.csv"
    args = ["migrate", "apply", str(recipe_file), str(export), "-o", str(out)]
    refused = runner.invoke(args=[*args, "--record", "9999"])
    assert refused.exit_code != 0 and "No rollout 9999" in refused.output
    assert not out.exists()
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 5000, "utf-8")
    deep = runner.invoke(args=["migrate", "apply", str(nested), str(export), "-o", str(out)])
    assert deep.exit_code != 0 and "not a JSON recipe" in deep.output and not out.exists()


def test_migrate_apply_never_writes_over_its_own_inputs(runner, tmp_path):
    """The output, the rejects, the export and the recipe are four files: the old CRM's
    export is never overwritten, nor the cleaned records by the rejects; a folder that does
    not exist is said, not a traceback; the export's hash is the export's, before writing."""
    from planner.migration import targets

    export = files.bitrix24(tmp_path)
    original = export.read_bytes()
    recipe_file = tmp_path / "recipe.json"
    document = targets.suggest(list(files.BITRIX_HEADER), "contacts").as_document()
    recipe_file.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    base = ["migrate", "apply", str(recipe_file), str(export)]
    over = runner.invoke(args=[*base, "-o", str(export)])
    assert over.exit_code != 0 and "are one file" in over.output
    assert export.read_bytes() == original
    out = tmp_path / "out.csv"
    both = runner.invoke(args=[*base, "-o", str(out), "--rejects", str(tmp_path / "." / "out.csv")])
    assert both.exit_code != 0 and "are one file" in both.output and not out.exists()
    nowhere = runner.invoke(args=[*base, "-o", str(tmp_path / "no" / "such" / "out.csv")])
    assert nowhere.exit_code != 0 and "does not exist" in nowhere.output
    assert "Traceback" not in nowhere.output
    done = runner.invoke(args=[*base, "-o", str(out)])
    assert done.exit_code == 0, done.output
    run = json.loads(done.output)
    assert run["export"]["sha256"] == hashlib.sha256(original).hexdigest()


def test_every_row_of_the_differences_table_has_a_cell_per_column(rollout, piloted, api_as, client):
    """Fields the new CRM's export lacks are differences without values: their rows still
    have the value cells, so that each explanation is under its heading."""
    project, lead, _viewer = rollout
    base, _upload, recipe, pilot = piloted
    body = "email,last_name\r\n" + "".join(
        f"{r.get('email') or ''},{r.get('last_name') or ''}\r\n" for r in pilot["records"][1:]
    )
    done = api_as(lead).post(
        f"{base}/pilots/{pilot['id']}/reconciliations",
        json=None,
        data={"file": (io.BytesIO(body.encode()), "crm.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 201, done.get_json()
    login(client, "ana")
    html = client.get(f"{base}/reconciliations/{done.get_json()['id']}").get_data(as_text=True)
    headings = len(re.findall(r'<th scope="col">', html))
    rows = re.findall(r'<tr id="d-([^"]+)">(.*?)</tr>', html, re.S)
    assert headings == 9 and any(d.startswith("absent-") for d, _ in rows)
    assert {len(re.findall(r"<td", row)) for _, row in rows} == {headings}
    # each record's difference says which record it is, and links to it on the pilot page
    missing = next(row for _, row in rows if ">missing<" in row)
    assert f"/pilots/{pilot['id']}#record-1" in missing and "record 1 (export row" in missing
    shown = client.get(f"{base}/pilots/{pilot['id']}").get_data(as_text=True)
    assert 'id="record-1"' in shown


def test_confirm_pages_say_what_a_pilot_changes(rollout, piloted, client):
    """A recipe that made a pilot offers no delete (it says why); purging the export names the
    pilot batches that lose their records with it."""
    project, _lead, _viewer = rollout
    base, upload, recipe, pilot = piloted
    login(client, "ana")
    page = client.get(f"{base}/recipes/{recipe['id']}").get_data(as_text=True)
    assert "Delete…" not in page
    assert "It made 1 pilot batch: it stays with it and cannot be deleted." in page
    ask = client.get(f"{base}/uploads/{upload['id']}/purge").get_data(as_text=True)
    assert f"Pilot batch {pilot['id']} was made from it: its records and downloads go too" in ask


def test_a_refused_pilot_size_is_shown_as_typed_with_why(rollout, piloted, client):
    project, _lead, _viewer = rollout
    base, _upload, recipe, _pilot = piloted
    login(client, "ana")
    page = f"{base}/recipes/{recipe['id']}"
    token = csrf_token(client, page)
    refused = client.post(f"{page}/pilots", data={"csrf_token": token, "size": "1500"})
    said = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "choose 1 to 1000 records" in said
    assert 'value="1500"' in said
    assert client.post(f"{page}/pilots", data={"size": "5"}).status_code == 400


def test_the_explanations_are_saved_together_and_kept_when_refused(
    rollout, piloted, api_as, client
):
    """Typing in two boxes and saving kept one of them before; a stale page is refused (409)
    with what was typed still in its boxes; a difference of another reconciliation is 404."""
    project, lead, _viewer = rollout
    base, _upload, _recipe, pilot = piloted
    returned = "email,last_name\r\n" + "".join(  # the other fields absent: one difference each
        f"{r.get('email') or ''},{r.get('last_name') or ''}\r\n" for r in pilot["records"]
    )
    done = api_as(lead).post(
        f"{base}/pilots/{pilot['id']}/reconciliations",
        json=None,
        data={"file": (io.BytesIO(returned.encode()), "crm.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    ids = [d["id"] for d in body["result"]["differences"]][:2]
    assert len(ids) == 2
    login(client, "ana")
    page = f"{base}/reconciliations/{body['id']}"
    token = csrf_token(client, page)
    sent = {"csrf_token": token, "version": str(body["version"])}
    first = {f"text-{ids[0]}": "Lost by the import.", f"text-{ids[1]}": "Agreed with sales."}
    saved = client.post(f"{page}/explanations", data={**sent, **first})
    assert saved.status_code == 302
    now = api_as(lead).get(f"{base}/reconciliations/{body['id']}").get_json()
    assert [i for i in ids if i in now["unexplained"]] == []
    assert now["version"] == body["version"] + 1
    stale = client.post(f"{page}/explanations", data={**sent, f"text-{ids[0]}": "Typed late."})
    assert stale.status_code == 409 and "Typed late." in stale.get_data(as_text=True)
    other = client.post(
        f"{page}/explanations",
        data={"csrf_token": token, "version": str(now["version"]), "text-nope": "x"},
    )
    assert other.status_code == 404
    assert client.post(f"{page}/explanations", data={"version": "1"}).status_code == 400
