"""The data migration as the demo rollout has it: the lead has uploaded the legacy Bitrix24
export of contacts (Windows-1251, semicolons, Russian and Ukrainian headers, as seed 003 says
such exports come: phones in several formats, dates as dd.mm.yyyy and otherwise, a duplicate
customer, a cell that would start a formula, an embedded line break), so that its profile shows
what is wrong with it. A recipe for contacts is drawn up for it; a pilot of five records was
imported into the new CRM and reconciled, one difference explained and one not, so the gate
waits; the plan has a backup taken but not yet verified by a restore. ``planner.demo`` calls
:func:`load`."""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from planner.core.encryption import DataKey
from planner.migration import pilots, recipes, service
from planner.migration import plan as plans
from planner.migration.models import MigrationUpload
from planner.projects.access import Access

HEADER = ["ID", "ФИО", "Телефон", "E-mail", "Дата рождения", "Компания", "Комментарий"]
ROWS = [
    ["101", "Иванов Пётр Сергеевич", "8 (912) 345-67-89", "ivanov@example.ru", "31.12.1980",
     "ООО Ромашка", "Постоянный клиент"],
    ["102", "Петрова Анна", "+7 912 000-11-22", "anna.petrova@example.ru", "01.02.1990",
     "ООО Ромашка", ""],
    ["103", "Сидоров Иван", "89120001122", "", "1985-07-15", "ИП Сидоров", "Звонить после 18:00"],
    ["104", "Коваленко Олена", "+380 44 123 4567", "olena@example.ua", "03/04/1979",
     "ТОВ Світанок", "Оптовий клієнт"],
    ["105", "Шевченко Тарас", "0441234567", "taras@example", "31.02.1988", "ТОВ Світанок", ""],
    ["106", "Popescu Maria", "+40 721 234 567", "maria.popescu@example.ro", "12.05.1992",
     "SC Carpatia SRL", "=HYPERLINK(\"http://example.com\")"],
    ["107", "Иванов Петр Сергеевич", "+79123456789", "IVANOV@example.ru", "31.12.1980",
     "ООО Ромашка", "Дубль?"],
    ["108", "Кузнецова Ольга", "912-345-67-80", "olga@example.ru", "", "ООО Вектор",
     "Адрес доставки:\nг. Пермь, ул. Ленина, 1"],
    ["109", "Волков Дмитрий", "", "volkov@example.ru", "28.09.1975", "", ""],
    ["110", "Lehmann Jonas", "+49 30 1234567", "jonas.lehmann@example.de", "07.11.1983",
     "Mueller und Soehne GmbH", "Grosskunde"],
]  # fmt: skip


def export_bytes() -> bytes:
    """The demo export as Bitrix24 writes it: Windows-1251, semicolons, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return out.getvalue().encode("cp1251")


MARKED = " (import)"  # how the demo's new CRM marks a company it created in the import


def returned_bytes(fields: list[str], records: list[dict]) -> bytes:
    """What the new CRM exports after importing the pilot: the first record's phone lost, and
    the company of the last other record that has one marked as made by the import."""
    marked = next((i for i in range(len(records) - 1, 0, -1) if records[i].get("company")), None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for i, record in enumerate(records):
        values = dict(record)
        if i == 0:
            values["phone"] = ""
        if i == marked:
            values["company"] = f"{values['company']}{MARKED}"
        writer.writerow([values.get(f) or "" for f in fields])
    return out.getvalue().encode("utf-8-sig")


def load(session: Session, lead: Access, key: DataKey) -> MigrationUpload:
    """Upload and profile the demo export as ``lead``, draw up its recipe, pilot and
    reconcile it, and write the plan (see the module)."""
    upload = service.upload(session, lead, io.BytesIO(export_bytes()), "bitrix24-contacts.csv", key)
    recipe = recipes.create_recipe(session, lead, entity="contacts", upload=upload)
    pilot = pilots.make_pilot(session, lead, recipe, key, size=5)
    fields = [f.name for f in pilots.fields_of(pilot)]
    returned = returned_bytes(fields, pilots.records(lead, pilot, key))
    done = pilots.reconcile(session, lead, pilot, io.BytesIO(returned), "crm-pilot.csv", key)
    marked = [d for d in done.summary.get("differences", []) if d.get("field") == "company"]
    if marked:
        pilots.explain(
            session,
            lead,
            done,
            marked[0]["id"],
            "The new CRM marks the companies the import created; agreed with sales, the mark "
            "goes once the import is checked.",
            version=done.version,
            key=key,
        )
    plans.update_plan(
        session,
        lead,
        {
            "approach": "incremental",
            "batch_size": 5000,
            "entity_order": ["Companies", "Contacts", "Deals"],
            "backup_taken": True,
            "backup_location": "Bitrix24 backup archive, encrypted, on the file server",
            "access": "The project lead; the integrator's two engineers during the import.",
        },
        version=None,
    )
    return upload
