"""A reconciliation as the lead works through it: a wrong file refused or flagged, a
reconciliation deleted, the differences listed a page at a time (all, or those not explained
yet), explained one by one, a kind and field at once, or several through the API."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from planner.core.audit import AuditEvent
from planner.extensions import db
from planner.migration import gate, pilot_views
from planner.migration.models import MigrationReconciliation
from tests.conftest import csrf_token, login
from tests.migration import files


def _file(pilot, recipe, *, records=None, phone=None) -> bytes:
    """What the new CRM exports: ``records`` of the pilot (all by default), the phone of
    each rewritten by ``phone`` when given."""
    fields = [f["name"] for f in recipe["document"]["fields"]]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(fields)
    for record in pilot["records"] if records is None else records:
        row = dict(record)
        if phone and row.get("phone"):
            row["phone"] = phone(row["phone"])
        writer.writerow([row.get(f) or "" for f in fields])
    return out.getvalue().encode("cp1251", errors="replace")


def _reconcile(client, project, pilot, data: bytes):
    page = f"/projects/{project.id}/migration/pilots/{pilot['id']}"
    return client.post(
        f"{page}/reconciliations",
        data={"csrf_token": csrf_token(client, page), "file": (io.BytesIO(data), "crm.csv")},
        content_type="multipart/form-data",
    )


def _events(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


@pytest.fixture
def lead_client(client):
    login(client, "ana")
    return client


def test_a_file_holding_no_record_of_the_pilot_is_refused_and_nothing_is_kept(
    rollout, piloted, lead_client, api_as
):
    project, lead, _viewer = rollout
    base, _upload, recipe, pilot = piloted
    strangers = [dict(r, phone="+7 900 000-00-0" + str(i), email=f"x{i}@example.org", name="Z")
                 for i, r in enumerate(pilot["records"])]  # fmt: skip
    for record in strangers:
        for field in ("id", "external_id", "contact_id"):
            record.pop(field, None)
    data = _file(pilot, recipe, records=strangers)
    refused = _reconcile(lead_client, project, pilot, data)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "holds no record of pilot batch" in text and "Nothing is kept." in text
    through_api = api_as(lead).post(
        f"{base}/pilots/{pilot['id']}/reconciliations",
        json=None,
        data={"file": (io.BytesIO(data), "crm.csv")},
        content_type="multipart/form-data",
    )
    assert through_api.status_code == 422
    assert through_api.get_json()["errors"]["file"][0].startswith("“crm.csv” holds no record of")
    assert db.session.scalar(select(func.count()).select_from(MigrationReconciliation)) == 0
    assert _events("migration.reconcile") == 0


def test_a_file_holding_few_of_the_pilots_records_is_kept_with_a_warning(
    rollout, piloted, lead_client
):
    project, _lead, _viewer = rollout
    _base, _upload, recipe, pilot = piloted
    sent = _reconcile(
        lead_client, project, pilot, _file(pilot, recipe, records=pilot["records"][:1])
    )
    assert sent.status_code == 302
    page = lead_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Only 1 of the 4 pilot records are in this file" in page
    whole = _reconcile(lead_client, project, pilot, _file(pilot, recipe))
    assert "pilot records are in this file" not in lead_client.get(
        whole.headers["Location"]
    ).get_data(as_text=True)


def test_the_lead_deletes_a_wrong_reconciliation_and_the_previous_one_counts_again(
    rollout, piloted, lead_client, app, api_as
):
    project, lead, viewer = rollout
    _base, _upload, recipe, pilot = piloted
    right = _reconcile(lead_client, project, pilot, _file(pilot, recipe))
    wrong = _reconcile(
        lead_client, project, pilot, _file(pilot, recipe, records=pilot["records"][:1])
    )
    first, second = db.session.scalars(
        select(MigrationReconciliation).order_by(MigrationReconciliation.id)
    ).all()
    first_id, second_id = first.id, second.id
    assert right.headers["Location"].endswith(f"/reconciliations/{first.id}")
    assert wrong.headers["Location"].endswith(f"/reconciliations/{second.id}")
    url = f"/projects/{project.id}/migration/reconciliations/{second.id}/delete"
    other = app.test_client()
    login(other, "vera")
    assert other.get(url).status_code == 403  # a viewer may not, nor see the question
    api_url = f"/projects/{project.id}/migration/reconciliations"
    assert api_as(viewer).raw("DELETE", f"{api_url}/{second.id}").status_code == 403
    asked = lead_client.get(url)
    assert asked.status_code == 200
    question = asked.get_data(as_text=True)
    assert f"Delete reconciliation {second.id} of crm.csv?" in question
    assert "counts for the migration gate again" in question
    assert lead_client.post(url).status_code == 400  # no CSRF token
    assert db.session.get(MigrationReconciliation, second.id) is not None
    done = lead_client.post(url, data={"csrf_token": csrf_token(lead_client, url)})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/pilots/{pilot['id']}")
    db.session.expire_all()
    assert db.session.get(MigrationReconciliation, second_id) is None
    standing = gate.standings(db.session, project.id)[0]
    assert standing.reconciliation is not None and standing.reconciliation.id == first_id
    assert _events("migration.reconciliation.delete") == 1
    assert lead_client.get(url).status_code == 404
    gone = api_as(lead).raw("DELETE", f"{api_url}/{second_id}")
    assert gone.status_code == 404
    deleted = api_as(lead).raw("DELETE", f"{api_url}/{first_id}")
    assert deleted.status_code == 204
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(MigrationReconciliation)) == 0


def test_differences_are_listed_a_page_at_a_time_all_or_those_not_explained(
    rollout, piloted, lead_client, monkeypatch
):
    monkeypatch.setattr(pilot_views, "PER_PAGE", 2)
    project, _lead, _viewer = rollout
    _base, _upload, recipe, pilot = piloted
    sent = _reconcile(
        lead_client, project, pilot, _file(pilot, recipe, phone=lambda p: "+1 555 0100")
    )
    row = db.session.scalars(select(MigrationReconciliation)).one()
    ids = [d["id"] for d in row.summary["differences"]]
    assert len(ids) == 3  # the three phones
    url = sent.headers["Location"]
    first = lead_client.get(url).get_data(as_text=True)
    assert f'id="d-{ids[0]}"' in first and f'id="d-{ids[2]}"' not in first
    assert "Page 1 of 2" in first
    trail = first[first.index('aria-label="breadcrumb"') :].split("</nav>")[0]  # every level
    assert f'/migration/recipes/{recipe["id"]}"' in trail and f'/pilots/{pilot["id"]}"' in trail
    assert f'aria-current="page">Reconciliation {row.id}<' in trail
    second = lead_client.get(f"{url}?page=2").get_data(as_text=True)
    assert f'id="d-{ids[2]}"' in second and f'id="d-{ids[0]}"' not in second
    beyond = lead_client.get(f"{url}?page=99").get_data(as_text=True)  # the last page
    assert f'id="d-{ids[-1]}"' in beyond
    assert lead_client.get(f"{url}?page=abc").status_code == 422
    assert lead_client.get(f"{url}?page=0").status_code == 422
    # explaining the second page's differences keeps the page, and the others' explanations
    saved = lead_client.post(
        f"/projects/{project.id}/migration/reconciliations/{row.id}/explanations?page=2",
        data={
            "csrf_token": csrf_token(lead_client, url),
            "version": str(row.version),
            f"text-{ids[2]}": "Номер проверен: новый формат",
        },
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("?page=2")
    waiting = lead_client.get(f"{url}?show=unexplained").get_data(as_text=True)
    assert f'id="d-{ids[2]}"' not in waiting and f'id="d-{ids[0]}"' in waiting
    assert "Not explained (2)" in waiting


def test_one_explanation_covers_every_unexplained_difference_of_a_kind_and_field(
    rollout, piloted, lead_client
):
    project, _lead, _viewer = rollout
    _base, _upload, recipe, pilot = piloted
    sent = _reconcile(
        lead_client, project, pilot, _file(pilot, recipe, phone=lambda p: "+1 555 0100")
    )
    row = db.session.scalars(select(MigrationReconciliation)).one()
    phones = [
        d["id"]
        for d in row.summary["differences"]
        if (d["kind"], d.get("field")) == ("changed", "phone")
    ]
    assert len(phones) >= 2
    page = lead_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "One explanation for many differences" in page
    assert f'value="changed:phone">changed, phone: {len(phones)}' in page
    url = f"/projects/{project.id}/migration/reconciliations/{row.id}/explanations/group"
    token = csrf_token(lead_client, sent.headers["Location"])
    form = {"csrf_token": token, "group": "changed:phone", "version": str(row.version)}
    assert lead_client.post(url, data=form | {"text": " "}).status_code == 422
    stale = lead_client.post(url, data=form | {"text": "x", "version": str(row.version - 1)})
    assert stale.status_code == 409
    unknown = lead_client.post(url, data=form | {"group": "changed:nothing", "text": "x"})
    assert unknown.status_code == 422
    assert "No unexplained difference of that kind and field is left." in unknown.get_data(
        as_text=True
    )
    db.session.refresh(row)
    assert not row.explanations and _events("migration.explain") == 0
    done = lead_client.post(url, data=form | {"text": "Новая CRM пишет номера по-своему"})
    assert done.status_code == 302
    db.session.refresh(row)
    assert {i: row.explanations[i]["text"] for i in phones} == dict.fromkeys(
        phones, "Новая CRM пишет номера по-своему"
    )
    assert _events("migration.explain") == len(phones)
    again = lead_client.post(url, data=form | {"version": str(row.version), "text": "x"})
    assert again.status_code == 422  # nothing of that group is left to explain


def test_the_api_explains_several_differences_at_once_all_or_nothing(rollout, piloted, api_as):
    project, lead, viewer = rollout
    base, _upload, recipe, pilot = piloted
    made = api_as(lead).post(
        f"{base}/pilots/{pilot['id']}/reconciliations",
        json=None,
        data={
            "file": (io.BytesIO(files.returned_by_crm(pilot, recipe, drop_first=True)), "crm.csv")
        },
        content_type="multipart/form-data",
    )
    assert made.status_code == 201
    found = made.get_json()
    ids = [d["id"] for d in found["result"]["differences"]]
    url = f"{base}/reconciliations/{found['id']}/explanations"
    version = found["version"]
    for body, status in [
        ([], 422),
        ({"texts": {ids[0]: "x"}}, 422),  # no version
        ({"texts": ["x"], "version": version}, 422),
        ({"texts": {ids[0]: 5}, "version": version}, 422),
        ({"texts": {ids[0]: "x"}, "version": True}, 422),
        ({"texts": {ids[0]: "x"}, "version": version, "extra": 1}, 422),
        ({"texts": {ids[0]: "x" * 2001}, "version": version}, 422),
        ({"texts": {ids[0]: "x", "no-such-id": "y"}, "version": version}, 404),
        ({"texts": {ids[0]: "x"}, "version": version - 1}, 409),
    ]:
        assert api_as(lead).put(url, json=body).status_code == status, body
    assert api_as(viewer).put(url, json={"texts": {}, "version": version}).status_code == 403
    assert not db.session.get(MigrationReconciliation, found["id"]).explanations
    texts = dict.fromkeys(ids, "Удалён в старой CRM до импорта")
    saved = api_as(lead).put(url, json={"texts": texts, "version": version})
    assert saved.status_code == 200
    assert saved.get_json()["unexplained"] == []
    assert saved.get_json()["version"] == version + 1


def test_refused_explanations_come_back_as_typed_wherever_the_list_moved(
    rollout, piloted, lead_client, api_as, monkeypatch
):
    """Someone explains the first difference while the lead types on page 2 of those not
    explained: the save is refused (409), and the page lists the typed differences with the
    text as typed; a bad page number is refused before anything is saved."""
    monkeypatch.setattr(pilot_views, "PER_PAGE", 1)
    project, lead, _viewer = rollout
    base, _upload, recipe, pilot = piloted
    sent = _reconcile(lead_client, project, pilot, _file(pilot, recipe, phone=lambda p: "+1 555"))
    row = db.session.scalars(select(MigrationReconciliation)).one()
    ids, version = [d["id"] for d in row.summary["differences"]], row.version
    token = csrf_token(lead_client, sent.headers["Location"])
    url = f"/projects/{project.id}/migration/reconciliations/{row.id}/explanations"
    form = {"csrf_token": token, "version": str(version), f"text-{ids[1]}": "Мой текст"}
    bad = lead_client.post(f"{url}?show=unexplained&page=abc", data=form)
    assert bad.status_code == 422
    db.session.refresh(row)
    assert not row.explanations and _events("migration.explain") == 0
    meanwhile = api_as(lead).put(
        f"{base}/reconciliations/{row.id}/explanations",
        json={"texts": {ids[0]: "Объяснено коллегой"}, "version": version},
    )
    assert meanwhile.status_code == 200
    refused = lead_client.post(
        f"{url}?show=unexplained&page=2", data=form | {f"text-{ids[0]}": "Мой вариант"}
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert 'Saved meanwhile:</strong> <span dir="auto" class="pre">Объяснено коллегой' in page
    assert f'id="d-{ids[1]}"' in page and "Мой текст" in page and "as you typed them" in page
    assert f'name="version" value="{version + 1}"' in page  # saved again, it is taken
    again = lead_client.post(url, data=form | {"version": str(version + 1)})
    assert again.status_code == 302
    db.session.refresh(row)
    assert row.explanations[ids[1]]["text"] == "Мой текст"


def test_a_refused_group_explanation_can_be_sent_again_and_always_says_why(
    rollout, piloted, lead_client
):
    project, _lead, _viewer = rollout
    _base, _upload, recipe, pilot = piloted
    sent = _reconcile(lead_client, project, pilot, _file(pilot, recipe, phone=lambda p: "+1 555"))
    row = db.session.scalars(select(MigrationReconciliation)).one()
    url = f"/projects/{project.id}/migration/reconciliations/{row.id}/explanations/group"
    token = csrf_token(lead_client, sent.headers["Location"])
    form = {"csrf_token": token, "group": "changed:phone", "text": "Формат новой CRM"}
    stale = lead_client.post(url, data=form | {"version": str(row.version + 5)})
    assert stale.status_code == 409
    shown = stale.get_data(as_text=True)
    assert f'id="version" name="version" type="hidden" value="{row.version}"' in shown
    assert lead_client.post(url, data=form | {"version": str(row.version)}).status_code == 302
    db.session.refresh(row)
    after = lead_client.post(url, data=form | {"version": str(row.version)})  # an old tab
    assert after.status_code == 422
    assert "No unexplained difference of that kind and field is left." in after.get_data(
        as_text=True
    )


def test_one_explanation_covers_every_field_the_new_crms_export_lacks(
    rollout, piloted, lead_client
):
    project, _lead, _viewer = rollout
    _base, _upload, _recipe, pilot = piloted
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["email", "phone"])
    for record in pilot["records"]:
        writer.writerow([record.get("email") or "", record.get("phone") or ""])
    sent = _reconcile(lead_client, project, pilot, out.getvalue().encode())
    row = db.session.scalars(select(MigrationReconciliation)).one()
    absent = [d["id"] for d in row.summary["differences"] if d["kind"] == "absent"]
    assert len(absent) > 5
    page = lead_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f'value="absent">absent, all {len(absent)} fields: {len(absent)}' in page
    done = lead_client.post(
        f"/projects/{project.id}/migration/reconciliations/{row.id}/explanations/group",
        data={
            "csrf_token": csrf_token(lead_client, sent.headers["Location"]),
            "group": "absent",
            "text": "Новая CRM выгружает только ключ и телефон",
            "version": str(row.version),
        },
    )
    assert done.status_code == 302
    db.session.refresh(row)
    assert set(absent) <= set(row.explanations)
    assert not set(gate.unexplained(row)) & set(absent)


def test_an_explanation_that_quotes_a_customer_is_refused(rollout, piloted, lead_client, api_as):
    """Every member reads the explanations: a customer's phone, however written, or name is
    refused, on the page, in a group and through the API; nothing is saved."""
    project, lead, _viewer = rollout
    base, _upload, recipe, pilot = piloted
    sent = _reconcile(lead_client, project, pilot, _file(pilot, recipe, phone=lambda p: "+1 555"))
    row = db.session.scalars(select(MigrationReconciliation)).one()
    first = row.summary["differences"][0]["id"]
    url = f"/projects/{project.id}/migration/reconciliations/{row.id}/explanations"
    token = csrf_token(lead_client, sent.headers["Location"])
    phone = next(r["phone"] for r in pilot["records"] if r.get("phone"))
    spaced = f"{phone[:2]} ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}"
    surname = next(r["last_name"] for r in pilot["records"] if r.get("last_name"))
    for text in (f"Оператор ввёл {spaced} неверно", f"Клиент {surname.upper()} просил так"):
        refused = lead_client.post(
            url, data={"csrf_token": token, "version": str(row.version), f"text-{first}": text}
        )
        assert refused.status_code == 422, text
        assert "must not quote the customer" in refused.get_data(as_text=True)
    group = lead_client.post(
        f"{url}/group",
        data={
            "csrf_token": token,
            "group": "changed:phone",
            "text": f"все как {spaced}",
            "version": str(row.version),
        },
    )
    assert group.status_code == 422
    second = row.summary["differences"][1]["id"]
    through_api = api_as(lead).put(
        f"{base}/reconciliations/{row.id}/explanations",
        json={"texts": {first: f"see {phone}", second: "Формат CRM"}, "version": row.version},
    )
    assert through_api.status_code == 422
    assert "a value of the field phone" in through_api.get_json()["detail"]
    assert set(through_api.get_json()["errors"]) == {"text", first}  # the quoting one alone
    db.session.refresh(row)
    assert not row.explanations and _events("migration.explain") == 0
    fine = api_as(lead).put(
        f"{base}/reconciliations/{row.id}/explanations",
        json={"texts": {first: "Новая CRM хранит номера по-своему"}, "version": row.version},
    )
    assert fine.status_code == 200


def test_the_old_crms_export_is_no_new_crms_export(rollout, piloted, lead_client, tmp_path):
    project, _lead, _viewer = rollout
    _base, _upload, _recipe, pilot = piloted
    (tmp_path / "again").mkdir()
    same = files.bitrix24(tmp_path / "again").read_bytes()  # the very export piloted
    refused = _reconcile(lead_client, project, pilot, same)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    top = page.split('<div class="flashes">', 1)[1].split("</div>", 1)[0]  # said on top too
    assert "the old CRM&#39;s export the pilot was made from" in top
    assert db.session.scalar(select(func.count()).select_from(MigrationReconciliation)) == 0


def test_a_second_recipe_of_an_entity_says_where_to_go(rollout, piloted, lead_client):
    project, _lead, _viewer = rollout
    _base, upload, _recipe, _pilot = piloted
    page = f"/projects/{project.id}/migration"
    refused = lead_client.post(
        f"{page}/recipes",
        data={
            "csrf_token": csrf_token(lead_client, page),
            "entity": "contacts",
            "upload": str(upload["id"]),
            "region": "RU",
        },
    )
    assert refused.status_code == 409
    top = refused.get_data(as_text=True).split('<div class="flashes">', 1)[1].split("</div>")[0]
    assert "has a recipe for contacts already: open it and choose this export there" in top
