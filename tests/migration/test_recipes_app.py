"""Recipes, pilots and reconciliation in the app: the lead draws up a recipe for an export,
changes it (stale edits and bad documents refused, nothing half-saved), previews it on the
rows, makes a pilot, exports it for the new CRM, reconciles what the new CRM sent back and
explains every difference until the gate is met; other members see counts, never a value;
purging the export takes the pilot's records and the differences' values with it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from planner.core.audit import AuditEvent
from planner.core.permissions import Role
from planner.extensions import db
from planner.migration.models import MigrationPilot, MigrationRecipe, MigrationReconciliation
from tests.conftest import csrf_token, login
from tests.migration import files

PILOT_GATE = "A pilot batch is reconciled with the new CRM, every difference explained"


@pytest.fixture
def rollout(factory):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    reviewer = factory.member(project, factory.user("mihai"), Role.REVIEWER, "Sales")
    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    return project, lead, reviewer, viewer


@pytest.fixture
def uploaded(rollout, api_as, tmp_path):
    project, lead, _reviewer, _viewer = rollout
    data = files.bitrix24(tmp_path).read_bytes()
    made = api_as(lead).post(
        f"/projects/{project.id}/migration/uploads",
        json=None,
        data={"file": (io.BytesIO(data), "bitrix24-contacts.csv")},
        content_type="multipart/form-data",
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def _base(project) -> str:
    return f"/projects/{project.id}/migration"


def _recipe(api, project, upload_id, entity="contacts"):
    made = api.post(f"{_base(project)}/recipes", json={"entity": entity, "upload_id": upload_id})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def _actions(project) -> list[str]:
    return list(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.project_id == project.id))
    )


def _rules(document) -> dict[str, dict]:
    return {r["field"]: r for r in document["rules"]}


def test_a_recipe_is_drawn_up_for_the_export_and_maps_its_columns(rollout, api_as, uploaded):
    project, lead, _reviewer, viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    rules = _rules(recipe["document"])
    sources = {s for r in rules.values() for s in r["from"]}
    assert {"Телефон", "E-mail", "Дата рождения"} <= sources
    phone = next(r for r in rules.values() if r["from"] == ["Телефон"])
    assert phone["transform"] == "phone"
    assert recipe["version"] == 1 and recipe["upload_id"] == uploaded
    seen = api_as(viewer).get(f"{_base(project)}/recipes/{recipe['id']}")
    assert seen.status_code == 200 and seen.get_json()["document"] == recipe["document"]
    again = api_as(lead).post(
        f"{_base(project)}/recipes", json={"entity": "contacts", "upload_id": uploaded}
    )
    assert again.status_code == 409
    unknown = api_as(lead).post(f"{_base(project)}/recipes", json={"entity": "invoices"})
    assert unknown.status_code == 422 and "entity" in unknown.get_json()["errors"]
    assert (
        api_as(viewer).post(f"{_base(project)}/recipes", json={"entity": "deals"}).status_code
        == 403
    )
    targets = api_as(viewer).get(f"{_base(project)}/targets").get_json()
    assert {"contacts", "companies", "deals"} <= set(targets["templates"])
    assert "migration.recipe.create" in _actions(project)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["rules"][0].update(transform="teleport"), "rules[0].transform"),
        (lambda d: d.update(format_version=99), "format_version"),
        (lambda d: d["rules"][0].update({"from": ["Нет такой колонки"]}), "rules[0].from"),
        (lambda d: d.update(key="nobody"), "key"),
        (lambda d: d["fields"][0].update(type="colour"), "fields[0].type"),
    ],
)
def test_a_bad_recipe_is_refused_by_its_place_and_nothing_changes(
    rollout, api_as, uploaded, change, path
):
    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    document = json.loads(json.dumps(recipe["document"]))
    change(document)
    url = f"{_base(project)}/recipes/{recipe['id']}"
    refused = api_as(lead).put(url, json={"document": document, "version": 1})
    assert refused.status_code == 422, refused.get_json()
    assert any(key.startswith(path) for key in refused.get_json()["errors"]), refused.get_json()
    after = api_as(lead).get(url).get_json()
    assert after["version"] == 1 and after["document"] == recipe["document"]


def test_a_recipe_changes_with_its_version_and_stale_edits_are_refused(rollout, api_as, uploaded):
    project, lead, _reviewer, viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    url = f"{_base(project)}/recipes/{recipe['id']}"
    document = json.loads(json.dumps(recipe["document"]))
    document["region"] = "UA"
    saved = api_as(lead).put(url, json={"document": document, "version": 1})
    assert saved.status_code == 200 and saved.get_json()["version"] == 2
    assert saved.get_json()["document"]["region"] == "UA"
    stale = api_as(lead).put(url, json={"document": recipe["document"], "version": 1})
    assert stale.status_code == 409
    assert api_as(lead).put(url, json={"document": document}).status_code == 422  # no version
    assert api_as(lead).put(url, json={"version": 2, "colour": 1}).status_code == 422
    other = dict(document, entity="deals")
    wrong = api_as(lead).put(url, json={"document": other, "version": 2})
    assert wrong.status_code == 422
    assert api_as(viewer).put(url, json={"document": document, "version": 2}).status_code == 403
    assert "migration.recipe.update" in _actions(project)


def test_the_preview_of_a_purged_export_leads_back_to_the_recipe(rollout, api_as, uploaded, client):
    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    assert api_as(lead).raw("DELETE", f"{_base(project)}/uploads/{uploaded}").status_code == 204
    login(client, "ana")
    page = f"/projects/{project.id}/migration/recipes/{recipe['id']}"
    gone = client.get(f"{page}/preview")
    assert gone.status_code == 302 and gone.headers["Location"].endswith(page)
    assert "was purged: there is nothing to preview" in client.get(page).get_data(as_text=True)


def test_the_preview_shows_original_and_cleaned_rows_to_the_lead_alone(rollout, api_as, uploaded):
    project, lead, reviewer, viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    url = f"{_base(project)}/recipes/{recipe['id']}/preview"
    shown = api_as(lead).get(url)
    assert shown.status_code == 200, shown.get_json()
    body = shown.get_json()
    assert body["counts"]["rows"] == len(files.BITRIX_ROWS)
    first = body["rows"][0]
    assert first["row"] == 1 and first["source"]["Телефон"] == "8 (912) 345-67-89"
    assert "+79123456789" in first["fields"].values()
    for member in (reviewer, viewer):
        assert api_as(member).get(url).status_code == 403
    for bad in ("0", "201", "x"):
        assert api_as(lead).get(f"{url}?limit={bad}").status_code == 422


def _pilot(api, project, recipe_id, size=5):
    made = api.post(f"{_base(project)}/recipes/{recipe_id}/pilots", json={"size": size})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def _returned_file(tmp_path: Path, records, fields, *, drop: int, change: tuple[int, str, str]):
    """What the new CRM exports after importing the pilot: one record dropped, one changed."""
    rows = [list(fields)]
    for i, record in enumerate(records):
        if i == drop:
            continue
        values = dict(record)
        if i == change[0]:
            values[change[1]] = change[2]
        rows.append([values.get(f) or "" for f in fields])
    return files.write_csv(tmp_path / "crm-export.csv", rows)


def test_pilot_reconcile_explain_until_the_gate_is_met(rollout, api_as, uploaded, tmp_path):
    project, lead, reviewer, viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    pilot = _pilot(api_as(lead), project, recipe["id"], size=4)
    assert pilot["size"] == 4 and len(pilot["records"]) == 4 and len(pilot["rows"]) == 4
    for member in (reviewer, viewer):
        seen = api_as(member).get(f"{_base(project)}/pilots/{pilot['id']}")
        assert seen.status_code == 200 and "records" not in seen.get_json()
        text = seen.get_data(as_text=True)
        for record in pilot["records"]:
            for value in record.values():
                if value and len(value) > 3 and not value.isdigit():
                    assert value not in text, value
    exported = api_as(lead).post(f"{_base(project)}/pilots/{pilot['id']}.csv")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    header = next(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    fields = [f["name"] for f in recipe["document"]["fields"]]
    assert header == fields
    assert "migration.export" in _actions(project)
    assert api_as(viewer).post(f"{_base(project)}/pilots/{pilot['id']}.csv").status_code == 403

    key = recipe["document"]["key"]
    keyed = [i for i, r in enumerate(pilot["records"]) if r.get(key)]
    changed_field = next(f for f in fields if f != key and pilot["records"][keyed[1]].get(f))
    returned = _returned_file(
        tmp_path, pilot["records"], fields, drop=keyed[0], change=(keyed[1], changed_field, "X")
    )
    sent = api_as(lead).post(
        f"{_base(project)}/pilots/{pilot['id']}/reconciliations",
        json=None,
        data={"file": (io.BytesIO(returned.read_bytes()), "crm-export.csv")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()
    result = sent.get_json()
    counts = result["result"]["counts"]
    assert counts["missing"] >= 1 and counts["changed"] >= 1
    assert result["unexplained"]
    phases = api_as(viewer).get(f"/projects/{project.id}/phases").get_json()["items"]
    (phase,) = [p for p in phases if p["key"] == "migration"]
    assert not next(c for c in phase["criteria"] if c["label"] == PILOT_GATE)["met"]
    seen = api_as(viewer).get(f"{_base(project)}/reconciliations/{result['id']}").get_json()
    assert all("expected" not in d and "key" not in d for d in seen["result"]["differences"])
    url = f"{_base(project)}/reconciliations/{result['id']}/differences"
    version = result["version"]
    for difference in result["unexplained"]:
        done = api_as(lead).put(
            f"{url}/{difference}",
            json={"text": "Dropped on purpose in the test.", "version": version},
        )
        assert done.status_code == 200, done.get_json()
        version = done.get_json()["version"]
    assert (
        api_as(lead).put(f"{url}/nope", json={"text": "x", "version": version}).status_code == 404
    )
    assert (
        api_as(lead).put(f"{url}/{difference}", json={"text": "x", "version": 1}).status_code == 409
    )
    assert (
        api_as(viewer)
        .put(f"{url}/{difference}", json={"text": "x", "version": version})
        .status_code
        == 403
    )
    phases = api_as(viewer).get(f"/projects/{project.id}/phases").get_json()["items"]
    (phase,) = [p for p in phases if p["key"] == "migration"]
    assert next(c for c in phase["criteria"] if c["label"] == PILOT_GATE)["met"]
    assert {"migration.pilot", "migration.reconcile", "migration.explain"} <= set(_actions(project))

    # a recipe that made a pilot stays; purging the export takes the derived values with it
    assert api_as(lead).raw("DELETE", f"{_base(project)}/recipes/{recipe['id']}").status_code == 409
    assert api_as(lead).raw("DELETE", f"{_base(project)}/uploads/{uploaded}").status_code == 204
    after = api_as(lead).get(f"{_base(project)}/pilots/{pilot['id']}").get_json()
    assert after["purged"] is True and "records" not in after
    row = db.session.get(MigrationReconciliation, result["id"])
    db.session.refresh(row)
    assert row.sealed_details is None and row.summary["counts"] == counts
    assert db.session.get(MigrationPilot, pilot["id"]).sealed_records is None


def test_bad_pilot_and_reconciliation_input_is_refused_with_nothing_stored(
    rollout, api_as, uploaded, tmp_path
):
    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    url = f"{_base(project)}/recipes/{recipe['id']}/pilots"
    for body in ({"size": 0}, {"size": 1001}, {"size": "20"}, {"size": True}, {"colour": 1}):
        assert api_as(lead).post(url, json=body).status_code == 422, body
    assert db.session.scalars(select(MigrationPilot)).all() == []
    pilot = _pilot(api_as(lead), project, recipe["id"], size=3)
    target = f"{_base(project)}/pilots/{pilot['id']}/reconciliations"
    no_file = api_as(lead).post(target, json=None, data={}, content_type="multipart/form-data")
    assert no_file.status_code == 422
    for data, name in (
        (b"", "empty.csv"),
        (b"%PDF-1.7\n\x00\x01binary", "export.pdf"),
        (b"Name,City\r\nA,B\r\n", "no-key.csv"),
        (f"{recipe['document']['key']}\r\n".encode(), "header-only.csv"),
    ):
        refused = api_as(lead).post(
            target,
            json=None,
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        assert refused.status_code == 422, (name, refused.get_json())
        assert refused.get_json()["detail"]
    assert db.session.scalars(select(MigrationReconciliation)).all() == []


def test_a_non_member_gets_404_everywhere(rollout, api_as, uploaded, factory):
    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    pilot = _pilot(api_as(lead), project, recipe["id"], size=2)
    stranger = api_as(factory.user("stan"))
    for path in (
        f"{_base(project)}/recipes",
        f"{_base(project)}/recipes/{recipe['id']}",
        f"{_base(project)}/recipes/{recipe['id']}/preview",
        f"{_base(project)}/pilots/{pilot['id']}",
        f"{_base(project)}/targets",
    ):
        assert stranger.get(path).status_code == 404, path
    assert stranger.post(f"{_base(project)}/pilots/{pilot['id']}.csv").status_code == 404


def test_the_recipe_pages_edit_import_export_and_delete(rollout, client, api_as, uploaded):
    project, lead, _reviewer, _viewer = rollout
    login(client, "ana")
    base = _base(project)
    index = client.get(base).get_data(as_text=True)
    assert "No recipe yet." in index
    made = client.post(
        f"{base}/recipes",
        data={
            "csrf_token": csrf_token(client, base),
            "entity": "contacts",
            "upload": str(uploaded),
            "region": "ru",
        },
    )
    assert made.status_code == 302
    page_url = made.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    assert "Телефон" in page and "planner migrate apply" in page
    row = db.session.scalars(select(MigrationRecipe)).one()
    exported = client.get(f"{base}/recipes/{row.id}.json")
    assert exported.status_code == 200 and json.loads(exported.data)["entity"] == "contacts"
    token = csrf_token(client, page_url)
    broken = client.post(
        f"{base}/recipes/{row.id}",
        data={"csrf_token": token, "document": "{not json", "version": "1"},
    )
    assert broken.status_code == 422 and "The recipe is not JSON" in broken.get_data(as_text=True)
    document = json.loads(exported.data)
    document["region"] = "UA"
    imported = client.post(
        f"{base}/recipes/{row.id}/import",
        data={
            "csrf_token": token,
            "version": "1",
            "file": (io.BytesIO(json.dumps(document).encode()), "recipe.json"),
        },
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302
    assert "The recipe is imported: version 2." in client.get(page_url).get_data(as_text=True)
    db.session.refresh(row)
    assert row.document["region"] == "UA" and row.version == 2
    stale = client.post(
        f"{base}/recipes/{row.id}",
        data={"csrf_token": token, "document": exported.data.decode(), "version": "1"},
    )
    assert stale.status_code == 409
    document["region"] = "RU"
    saved = client.post(
        f"{base}/recipes/{row.id}",
        data={"csrf_token": token, "document": json.dumps(document), "version": "2"},
    )
    assert saved.status_code == 302
    assert "The recipe is saved: version 3." in client.get(page_url).get_data(as_text=True)
    preview = client.get(f"{base}/recipes/{row.id}/preview")
    assert preview.status_code == 200
    cell = preview.get_data(as_text=True).split("+79123456789", 1)[1].split("</td>")[0]
    assert "In the export: </span>8 (912) 345-67-89</small>" in cell  # beside the value
    ask = client.get(f"{base}/recipes/{row.id}/delete")
    assert ask.status_code == 200
    gone = client.post(
        f"{base}/recipes/{row.id}/delete",
        data={"csrf_token": csrf_token(client, f"{base}/recipes/{row.id}/delete")},
    )
    assert gone.status_code == 302
    assert db.session.scalars(select(MigrationRecipe)).all() == []


def test_others_see_the_top_values_of_columns_mapped_to_fields_not_sensitive(
    rollout, api_as, uploaded, client
):
    project, lead, _reviewer, viewer = rollout
    url = f"{_base(project)}/uploads/{uploaded}"

    def columns(member) -> dict[str, dict]:
        body = api_as(member).get(url).get_json()
        return {c["name"]: c.get("values", {}) for c in body["profile"]["columns"]}

    assert all(not values for values in columns(viewer).values())  # no recipe: nothing
    _recipe(api_as(lead), project, uploaded)
    seen = columns(viewer)
    assert [t["value"] for t in seen["Статус"]["top"]][0] == "Новый"
    assert set(seen["Статус"]) == {"top"}  # no example, no minimum or maximum
    for secret in ("ФИО", "Телефон", "E-mail", "Компания", "Дата рождения", "Примітка"):
        assert not seen[secret], secret
    assert columns(lead)["ФИО"]["examples"]  # the lead sees them all
    login(client, "vera")
    page = client.get(f"/projects/{project.id}/migration/uploads/{uploaded}").get_data(as_text=True)
    assert "Новый" in page and "hidden: customer data" in page and "Иванов" not in page


def test_a_long_export_is_previewed_on_its_first_rows_and_piloted_on_a_sample(
    rollout, api_as, uploaded, monkeypatch
):
    from planner.migration import batches, preview

    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    monkeypatch.setattr(preview, "SCAN_ROWS", 3)
    shown = api_as(lead).get(f"{_base(project)}/recipes/{recipe['id']}/preview").get_json()
    assert shown["scanned"] == 3 and shown["counts"]["rows"] == 3
    assert len(shown["rows"]) == len(files.BITRIX_ROWS)  # the rows shown are not cut
    monkeypatch.setattr(batches, "SAMPLE_ROWS", 4)  # 11 rows: every third one
    pilot = _pilot(api_as(lead), project, recipe["id"], size=10)
    assert set(pilot["rows"]) <= {1, 4, 7, 10} and pilot["summary"]["sampled_every"] == 3


def test_the_mapping_form_changes_columns_transformations_and_flags(
    rollout, api_as, uploaded, client
):
    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    fields = [f["name"] for f in recipe["document"]["fields"]]
    rules = _rules(recipe["document"])
    login(client, "ana")
    page = f"{_base(project)}/recipes/{recipe['id']}"
    shown = client.get(page).get_data(as_text=True)
    assert 'name="from-0"' in shown and "Save the mapping" in shown
    form = {"csrf_token": csrf_token(client, page), "version": "1"}
    for i, name in enumerate(fields):
        rule = rules.get(name)
        if rule and len(rule["from"]) == 1:
            form[f"from-{i}"] = rule["from"][0]
            form[f"transform-{i}"] = rule["transform"]
        if recipe["document"]["fields"][i]["sensitive"]:
            form[f"sensitive-{i}"] = "y"
        if recipe["document"]["fields"][i]["required"]:
            form[f"required-{i}"] = "y"
    phone, birthday = fields.index("phone"), fields.index("birthday")
    form[f"from-{phone}"] = ""  # no longer mapped
    form[f"required-{birthday}"] = "y"
    bad = dict(form, **{f"transform-{birthday}": "teleport"})
    refused = client.post(f"{page}/mapping", data=bad)
    assert refused.status_code == 422 and "teleport" in refused.get_data(as_text=True)
    assert api_as(lead).get(f"{_base(project)}/recipes/{recipe['id']}").get_json()["version"] == 1
    saved = client.post(f"{page}/mapping", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    after = api_as(lead).get(f"{_base(project)}/recipes/{recipe['id']}").get_json()
    assert after["version"] == 2
    assert "phone" not in _rules(after["document"])
    assert after["document"]["fields"][birthday]["required"] is True
    assert _rules(after["document"])["birthday"] == rules["birthday"]  # options kept
    late = {k: v for k, v in form.items() if k != f"required-{birthday}"}
    stale = client.post(f"{page}/mapping", data=late)  # version 1 is stale
    assert stale.status_code == 409
    kept = stale.get_data(as_text=True)  # the choices as sent, not as saved meanwhile
    box = f'id="required-{birthday}" name="required-{birthday}" value="y"'
    assert box in kept and f"{box} checked" not in kept
    assert f"{box} checked" in client.get(page).get_data(as_text=True)  # as saved


def test_two_recipes_of_one_entity_at_the_same_moment_give_409_not_500(
    rollout, api_as, uploaded, monkeypatch
):
    from planner.migration import recipes

    project, lead, _reviewer, _viewer = rollout
    _recipe(api_as(lead), project, uploaded)
    monkeypatch.setattr(recipes, "taken", lambda *_args: False)  # read before the other saved
    again = api_as(lead).post(
        f"{_base(project)}/recipes", json={"entity": "contacts", "upload_id": uploaded}
    )
    assert again.status_code == 409, again.get_json()
    assert len(api_as(lead).get(f"{_base(project)}/recipes").get_json()["items"]) == 1


def _upload_bytes(api, project, data: bytes, name: str) -> int:
    made = api.post(
        f"{_base(project)}/uploads",
        json=None,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def test_a_recipe_opens_top_values_of_its_own_export_only(rollout, api_as, uploaded):
    project, lead, _reviewer, viewer = rollout
    _recipe(api_as(lead), project, uploaded)  # maps Статус and Місто, not sensitive
    other = _upload_bytes(
        api_as(lead),
        project,
        "ФИО;Місто;Статус\r\nИванов;ул. Ленина, 1, кв. 5;паспорт 4510 123456\r\n"
        "Петров;ул. Ленина, 1, кв. 5;паспорт 4510 123456\r\n".encode("cp1251"),
        "second.csv",
    )
    seen = api_as(viewer).get(f"{_base(project)}/uploads/{other}").get_data(as_text=True)
    assert "Ленина" not in seen and "4510" not in seen


def test_an_export_without_a_header_shows_others_no_value_as_a_column_name(rollout, api_as, client):
    project, lead, _reviewer, viewer = rollout
    data = (
        "Иванов Пётр;+7 912 345-67-89;ivanov@example.ru;31.12.1980\r\n"
        "Петрова Анна;+7 912 000-11-22;anna@example.ru;01.02.1990\r\n"
    ).encode("cp1251")
    upload_id = _upload_bytes(api_as(lead), project, data, "no-header.csv")
    seen = api_as(viewer).get(f"{_base(project)}/uploads/{upload_id}")
    names = [c["name"] for c in seen.get_json()["profile"]["columns"]]
    assert names == ["column 1", "column 2", "column 3", "column 4"]
    for secret in ("Иванов", "912", "ivanov", "1980"):
        assert secret not in seen.get_data(as_text=True)
    login(client, "ana")
    page = client.get(f"/projects/{project.id}/migration/uploads/{upload_id}")
    assert "The header line looks like a customer" in page.get_data(as_text=True)


def test_an_export_of_names_and_cities_without_a_header_is_caught_by_its_values(rollout, api_as):
    """No phone, e-mail or date in the first line: its city, one of the column's values,
    gives it away."""
    project, lead, _reviewer, viewer = rollout
    data = (
        "Иванов Пётр;Москва;Новый\r\nПетрова Анна;Київ;В работе\r\n"
        "Сидоров Олег;Москва;Новый\r\nКоваль Ірина;Львів;Новый\r\n"
    ).encode("cp1251")
    upload_id = _upload_bytes(api_as(lead), project, data, "no-header.csv")
    seen = api_as(viewer).get(f"{_base(project)}/uploads/{upload_id}")
    names = [c["name"] for c in seen.get_json()["profile"]["columns"]]
    assert names == ["column 1", "column 2", "column 3"]
    assert "Иванов" not in seen.get_data(as_text=True)
    headed = "ФИО;Город;Статус\r\n".encode("cp1251") + data
    upload_id = _upload_bytes(api_as(lead), project, headed, "headed.csv")
    seen = api_as(viewer).get(f"{_base(project)}/uploads/{upload_id}")
    assert [c["name"] for c in seen.get_json()["profile"]["columns"]] == ["ФИО", "Город", "Статус"]


def test_the_index_page_has_each_section_once(rollout, client, uploaded):
    project = rollout[0]
    login(client, "ana")
    page = client.get(_base(project)).get_data(as_text=True)
    assert page.count('id="recipes-h"') == 1 and page.count('id="pilots-h"') == 1
    title = page[page.index("<title>") : page.index("</title>")]
    assert "<section" not in title


def _reconcile(api, project, pilot_id: int, data: bytes) -> dict:
    sent = api.post(
        f"{_base(project)}/pilots/{pilot_id}/reconciliations",
        json=None,
        data={"file": (io.BytesIO(data), "crm.csv")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()
    return sent.get_json()


def _crm_file(records, fields, *, only: list[str] | None = None) -> bytes:
    names = only or fields
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for record in records:
        writer.writerow([record.get(f) or "" for f in names])
    return out.getvalue().encode()


def _explain_all(api, project, reconciliation: dict) -> None:
    version = reconciliation["version"]
    for difference in reconciliation["unexplained"]:
        url = f"{_base(project)}/reconciliations/{reconciliation['id']}/differences/{difference}"
        done = api.put(
            url, json={"text": "Expected: no e-mail in the old CRM.", "version": version}
        )
        assert done.status_code == 200, done.get_json()
        version = done.get_json()["version"]


def _pilot_gate(api, project) -> dict:
    phases = api.get(f"/projects/{project.id}/phases").get_json()["items"]
    (phase,) = [p for p in phases if p["key"] == "migration"]
    return next(c for c in phase["criteria"] if c["label"] == PILOT_GATE)


def test_the_gate_counts_each_recipes_latest_pilot_and_fields_not_compared(
    rollout, api_as, uploaded
):
    project, lead, _reviewer, viewer = rollout
    api = api_as(lead)
    recipe = _recipe(api, project, uploaded)
    fields = [f["name"] for f in recipe["document"]["fields"]]
    key = recipe["document"]["key"]
    first = _pilot(api, project, recipe["id"], size=3)
    # a new CRM export holding the key alone: every other field is a difference to explain
    only_key = _reconcile(
        api, project, first["id"], _crm_file(first["records"], fields, only=[key])
    )
    absent = [d for d in only_key["result"]["differences"] if d["kind"] == "absent"]
    assert {d["field"] for d in absent} == set(fields) - {key}
    assert only_key["result"]["counts"]["absent"] == len(fields) - 1
    assert not _pilot_gate(api_as(viewer), project)["met"]
    # the whole pilot back, as sent: only records without a key to explain, then the gate met
    whole = _reconcile(api, project, first["id"], _crm_file(first["records"], fields))
    kinds = {d["kind"] for d in whole["result"]["differences"]}
    assert kinds <= {"missing", "unexpected"} and "absent" not in kinds
    _explain_all(api, project, whole)
    assert _pilot_gate(api_as(viewer), project)["met"]
    # a second pilot of the same recipe supersedes the first: not reconciled yet
    second = _pilot(api, project, recipe["id"], size=2)
    waiting = _pilot_gate(api_as(viewer), project)
    assert not waiting["met"] and f"pilot {second['id']} of contacts" in waiting["detail"]
    # a second recipe without a pilot keeps the gate waiting too
    _explain_all(
        api, project, _reconcile(api, project, second["id"], _crm_file(second["records"], fields))
    )
    assert _pilot_gate(api_as(viewer), project)["met"]
    # the recipe changed since its latest pilot: that pilot no longer counts
    now = api.get(f"{_base(project)}/recipes/{recipe['id']}").get_json()
    document = now["document"]
    other = next(f for f in document["fields"] if f["name"] != key)
    other["sensitive"] = not other.get("sensitive", False)
    saved = api.put(
        f"{_base(project)}/recipes/{recipe['id']}",
        json={"document": document, "version": now["version"]},
    )
    assert saved.status_code == 200, saved.get_json()
    waiting = _pilot_gate(api_as(viewer), project)
    assert not waiting["met"]
    assert f"the recipe of contacts changed since pilot {second['id']}" in waiting["detail"]
    # changed back as it was (a version later): the pilot counts again, its explanations too
    other["sensitive"] = not other["sensitive"]
    back = api.put(
        f"{_base(project)}/recipes/{recipe['id']}",
        json={"document": document, "version": saved.get_json()["version"]},
    )
    assert back.status_code == 200 and back.get_json()["version"] == now["version"] + 2
    assert _pilot_gate(api_as(viewer), project)["met"]
    other["sensitive"] = not other["sensitive"]
    again = api.put(
        f"{_base(project)}/recipes/{recipe['id']}",
        json={"document": document, "version": back.get_json()["version"]},
    )
    assert again.status_code == 200
    assert not _pilot_gate(api_as(viewer), project)["met"]
    third = _pilot(api, project, recipe["id"], size=2)
    _explain_all(
        api, project, _reconcile(api, project, third["id"], _crm_file(third["records"], fields))
    )
    assert _pilot_gate(api_as(viewer), project)["met"]
    api.post(f"{_base(project)}/recipes", json={"entity": "deals", "upload_id": uploaded})
    waiting = _pilot_gate(api_as(viewer), project)
    assert not waiting["met"] and "the recipe of deals has no pilot batch yet" in waiting["detail"]


def test_an_explanation_taken_back_stays_taken_back_and_ids_are_unique(rollout, api_as, uploaded):
    project, lead, _reviewer, _viewer = rollout
    api = api_as(lead)
    recipe = _recipe(api, project, uploaded)
    fields = [f["name"] for f in recipe["document"]["fields"]]
    pilot = _pilot(api, project, recipe["id"], size=6)
    returned = _crm_file(pilot["records"][1:], fields)  # the first record lost
    one = _reconcile(api, project, pilot["id"], returned)
    ids = [d["id"] for d in one["result"]["differences"]]
    assert len(ids) == len(set(ids))
    url = f"{_base(project)}/reconciliations/{one['id']}/differences/{ids[0]}"
    done = api.put(url, json={"text": "Lost by the import: re-sent.", "version": one["version"]})
    assert done.status_code == 200
    carried = _reconcile(api, project, pilot["id"], returned)
    assert ids[0] not in carried["unexplained"]  # carried over to the same difference
    back = f"{_base(project)}/reconciliations/{carried['id']}/differences/{ids[0]}"
    assert api.put(back, json={"text": "", "version": carried["version"]}).status_code == 200
    third = _reconcile(api, project, pilot["id"], returned)
    assert ids[0] in third["unexplained"]  # taken back: not revived from the first
    # taking back what is not explained, or saying the same again, changes and audits nothing
    before = len(db.session.scalars(select(AuditEvent)).all())
    again = f"{_base(project)}/reconciliations/{third['id']}/differences/{ids[0]}"
    nothing = api.put(again, json={"text": " ", "version": third["version"]})
    assert nothing.status_code == 200 and nothing.get_json()["version"] == third["version"]
    said = api.put(again, json={"text": "Re-sent.", "version": third["version"]}).get_json()
    same = api.put(again, json={"text": "Re-sent. ", "version": said["version"]})
    assert same.get_json()["version"] == said["version"]
    assert len(db.session.scalars(select(AuditEvent)).all()) == before + 1
    recipe_now = api.get(f"{_base(project)}/recipes/{recipe['id']}").get_json()
    kept = api.put(
        f"{_base(project)}/recipes/{recipe['id']}",
        json={"upload_id": uploaded, "version": recipe_now["version"]},
    )
    assert kept.status_code == 200 and kept.get_json()["version"] == recipe_now["version"]
    assert len(db.session.scalars(select(AuditEvent)).all()) == before + 1
    trail = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "migration.explain")
    ).all()
    assert trail and all("Lost by the import" not in (e.summary + str(e.after)) for e in trail)


def test_hostile_recipe_input_is_a_clear_422_never_a_500(rollout, api_as, uploaded, client):
    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    url = f"{_base(project)}/recipes/{recipe['id']}"
    for change in (
        lambda d: d["rules"][0].update(transform=[]),
        lambda d: d["rules"][0].update(transform={"a": 1}),
        lambda d: d.update(merge={"by": [["email"]]}),
        lambda d: d["rules"][0].update(field="bad\u0000name"),
    ):
        document = json.loads(json.dumps(recipe["document"]))
        change(document)
        got = api_as(lead).put(url, json={"document": document, "version": 1})
        assert got.status_code == 422, got.get_json()
    assert api_as(lead).get(f"{url}/preview?limit=%C2%B2").status_code == 422
    login(client, "ana")
    token = csrf_token(client, f"/projects/{project.id}/migration/recipes/{recipe['id']}")
    page = f"/projects/{project.id}/migration/recipes/{recipe['id']}"
    for text in ("[" * 3000, '{"a": "\\u0000"}'):
        got = client.post(page, data={"csrf_token": token, "document": text, "version": "1"})
        assert got.status_code == 422, text[:20]
        nested = client.post(
            f"{page}/import",
            data={
                "csrf_token": token,
                "version": "1",
                "file": (io.BytesIO(text.encode()), "r.json"),
            },
            content_type="multipart/form-data",
        )
        assert nested.status_code == 422
    assert api_as(lead).get(url).get_json()["version"] == 1


def test_the_recipe_page_moves_the_recipe_to_a_newer_export(
    rollout, api_as, uploaded, client, tmp_path
):
    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    (tmp_path / "newer").mkdir()
    data = files.bitrix24(tmp_path / "newer").read_bytes()
    newer = _upload_bytes(api_as(lead), project, data, "newer.csv")
    unrelated = _upload_bytes(api_as(lead), project, b"Name,City\r\nA,B\r\nC,D\r\n", "other.csv")
    login(client, "ana")
    page = f"{_base(project)}/recipes/{recipe['id']}"
    token = csrf_token(client, page)
    lacking = client.post(
        f"{page}/upload", data={"csrf_token": token, "version": "1", "upload": str(unrelated)}
    )
    assert lacking.status_code == 422 and "Телефон" in lacking.get_data(as_text=True)
    not_one = client.post(
        f"{page}/upload", data={"csrf_token": token, "version": "1", "upload": "x"}
    )
    assert not_one.status_code == 422
    moved = client.post(
        f"{page}/upload", data={"csrf_token": token, "version": "1", "upload": str(newer)}
    )
    assert moved.status_code == 302
    after = api_as(lead).get(f"{_base(project)}/recipes/{recipe['id']}").get_json()
    assert after["upload_id"] == newer and after["version"] == 2
    stale = client.post(
        f"{page}/upload", data={"csrf_token": token, "version": "1", "upload": str(uploaded)}
    )
    assert stale.status_code == 409


def test_the_recipe_forms_without_their_token_or_version_change_nothing(
    rollout, api_as, uploaded, client
):
    project, lead, _reviewer, _viewer = rollout
    recipe = _recipe(api_as(lead), project, uploaded)
    login(client, "ana")
    page = f"{_base(project)}/recipes/{recipe['id']}"
    token = csrf_token(client, page)
    for action in ("mapping", "upload"):
        assert client.post(f"{page}/{action}", data={"version": "1"}).status_code == 400
        no_version = client.post(f"{page}/{action}", data={"csrf_token": token})
        assert no_version.status_code == 422
        assert "the form is incomplete" in no_version.get_data(as_text=True)
    assert api_as(lead).get(f"{_base(project)}/recipes/{recipe['id']}").get_json()["version"] == 1


HEADERLESS = (
    "Иванов Пётр;+7 912 345-67-89;ivanov@example.ru\r\n"
    "Петрова Анна;+7 912 000-11-22;anna@example.ru\r\n"
).encode("cp1251")


def test_no_recipe_reads_an_export_whose_first_line_is_a_customer(
    rollout, api_as, uploaded, client
):
    """A recipe names the export's columns and every member reads it: an export without a
    header line would put its first customer there (the recipe page, its JSON, the report,
    the audit trail). Drawing one up on it, moving one to it, or reading a recipe's export so
    that its first line is a customer, is refused; nothing changes."""
    project, lead, _reviewer, _viewer = rollout
    api = api_as(lead)
    headerless = _upload_bytes(api, project, HEADERLESS, "no-header.csv")
    drawn = api.post(
        f"{_base(project)}/recipes", json={"entity": "contacts", "upload_id": headerless}
    )
    assert drawn.status_code == 422
    assert "is a customer's record, not column names" in drawn.get_json()["detail"]
    assert "Иванов" not in drawn.get_data(as_text=True)
    assert api.get(f"{_base(project)}/recipes").get_json()["items"] == []
    recipe = _recipe(api, project, uploaded)
    moved = api.put(
        f"{_base(project)}/recipes/{recipe['id']}",
        json={"upload_id": headerless, "version": recipe["version"]},
    )
    assert moved.status_code == 422
    login(client, "ana")
    page = f"{_base(project)}/recipes/{recipe['id']}"
    token = csrf_token(client, page)
    refused = client.post(
        f"{page}/upload", data={"csrf_token": token, "version": "1", "upload": str(headerless)}
    )
    assert refused.status_code == 422
    assert "is a customer" in refused.get_data(as_text=True)
    after = api.get(f"{_base(project)}/recipes/{recipe['id']}").get_json()
    assert (after["upload_id"], after["version"]) == (uploaded, recipe["version"])
    url = f"{_base(project)}/uploads/{uploaded}"
    before = api.get(url).get_json()
    reread = api.patch(url, json={"version": before["version"], "header_row": 2})
    assert reread.status_code == 422 and "choose the header's line" in reread.get_json()["detail"]
    assert api.get(url).get_json()["version"] == before["version"]


def test_ids_of_no_export_and_a_purged_export_are_refused_clearly(
    rollout, api_as, uploaded, client
):
    project, lead, _reviewer, _viewer = rollout
    api = api_as(lead)
    for upload_id in (0, -1, 2**70):
        made = api.post(
            f"{_base(project)}/recipes", json={"entity": "contacts", "upload_id": upload_id}
        )
        assert made.status_code == 404, (upload_id, made.get_json())
    recipe = _recipe(api, project, uploaded)
    far = api.put(
        f"{_base(project)}/recipes/{recipe['id']}", json={"upload_id": 2**70, "version": 1}
    )
    assert far.status_code == 404
    login(client, "ana")
    page = f"{_base(project)}/recipes/{recipe['id']}"
    token = csrf_token(client, page)
    huge = client.post(
        f"{page}/upload", data={"csrf_token": token, "version": "1", "upload": "9" * 30}
    )
    assert huge.status_code == 422
    other = _upload_bytes(api, project, b"Name,City\r\nA,B\r\nC,D\r\n", "other.csv")
    assert api.raw("DELETE", f"{_base(project)}/uploads/{other}").status_code == 204
    purged = api.post(f"{_base(project)}/recipes", json={"entity": "companies", "upload_id": other})
    assert purged.status_code == 409 and "was purged" in purged.get_json()["detail"]
    assert len(api.get(f"{_base(project)}/recipes").get_json()["items"]) == 1


def test_a_recipe_deleted_while_its_pilot_is_made_gives_409_and_no_pilot(
    rollout, api_as, uploaded, monkeypatch
):
    """Another request's delete, committed while this one made the pilot, is what this
    transaction sees when it locks the recipe: 409, no pilot kept, never a 500."""
    from sqlalchemy import delete

    from planner.migration import batches

    project, lead, _reviewer, _viewer = rollout
    api = api_as(lead)
    recipe = _recipe(api, project, uploaded)
    made = batches.pilot_batch

    def deleted_meanwhile(*args, **kwargs):
        found = made(*args, **kwargs)
        db.session.execute(
            delete(MigrationRecipe)
            .where(MigrationRecipe.id == recipe["id"])
            .execution_options(synchronize_session=False)
        )
        return found

    monkeypatch.setattr(batches, "pilot_batch", deleted_meanwhile)
    sent = api.post(f"{_base(project)}/recipes/{recipe['id']}/pilots", json={"size": 4})
    assert sent.status_code == 409, sent.get_json()
    assert "deleted meanwhile" in sent.get_json()["detail"]
    db.session.rollback()
    assert db.session.scalar(select(MigrationPilot.id)) is None


def test_a_refused_recipe_form_keeps_the_choices_and_says_why_by_its_field(
    rollout, client, uploaded
):
    project = rollout[0]
    login(client, "ana")
    base = _base(project)
    token = csrf_token(client, base)
    for region in ("R", "XX"):
        sent = {
            "csrf_token": token,
            "entity": "companies",
            "upload": str(uploaded),
            "region": region,
        }
        refused = client.post(f"{base}/recipes", data=sent)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422, region
        assert '<option selected value="companies">' in page or 'value="companies" selected' in page
        assert f'value="{region}"' in page
    assert "region" in page.lower() and "RU or UA" in page
    assert db.session.scalar(select(MigrationRecipe.id)) is None


def test_a_recipe_drawn_up_without_an_export_is_mapped_when_it_moves_to_one(
    rollout, api_as, uploaded, client
):
    """As the creation form promises: the columns the template knows by name are mapped,
    also when the export is chosen after the recipe was drawn up; what was mapped stays."""
    project, lead, _reviewer, _viewer = rollout
    api = api_as(lead)
    bare = api.post(f"{_base(project)}/recipes", json={"entity": "contacts"}).get_json()
    assert bare["upload_id"] is None and _rules(bare["document"]) == {}
    with_export = _recipe(api, project, uploaded, entity="companies")  # for comparison
    assert _rules(with_export["document"])
    login(client, "ana")
    page = f"{_base(project)}/recipes/{bare['id']}"
    assert "No export is chosen: choose one below" in client.get(page).get_data(as_text=True)
    moved = client.post(
        f"{page}/upload",
        data={"csrf_token": csrf_token(client, page), "version": "1", "upload": str(uploaded)},
        follow_redirects=True,
    )
    assert moved.status_code == 200
    assert "fields are mapped to their columns by the columns" in moved.get_data(as_text=True)
    after = api.get(f"{_base(project)}/recipes/{bare['id']}").get_json()
    rules = _rules(after["document"])
    assert after["upload_id"] == uploaded and "email" in rules and "phone" in rules


def test_moving_a_recipe_to_an_export_that_lacks_its_columns_says_the_way_out(
    rollout, api_as, uploaded, tmp_path
):
    project, lead, _reviewer, _viewer = rollout
    api = api_as(lead)
    recipe = _recipe(api, project, uploaded)
    (tmp_path / "h").mkdir()
    other = _upload_bytes(api, project, files.hubspot(tmp_path / "h").read_bytes(), "hub.csv")
    moved = api.put(
        f"{_base(project)}/recipes/{recipe['id']}",
        json={"upload_id": other, "version": recipe["version"]},
    )
    assert moved.status_code == 422
    said = moved.get_json()["detail"]
    assert said.startswith("The file lacks")
    assert "Map the fields they fill (" in said and "save the mapping, then choose" in said
