"""The pilot's round trip: what the new CRM exported after importing the pilot, compared with
the pilot. Its own way of writing values is no difference; a record dropped, a value cut short
or emptied, a duplicate the import made and a record not in the pilot are, each with an id that
stays; values of either file never reach the form for other members."""

from __future__ import annotations

import json
import re

import pytest

from planner.core.errors import ValidationError
from planner.migration.fields import CHECKBOX, DATE, EMAIL, NUMBER, PHONE, PICKLIST, Field
from planner.migration.pilot import MAX_PILOT, export
from planner.migration.reconcile import (
    CHANGED,
    DUPLICATE,
    EMPTIED,
    MAX_UNEXPECTED,
    MISSING,
    NO_KEY,
    NOT_FOUND,
    SAME_EMAIL,
    SAME_KEY,
    SAME_PHONE,
    UNEXPECTED,
    compare,
    map_columns,
    reconcile,
)
from tests.migration.files import write_csv

FIELDS = [
    Field("email", "E-mail", EMAIL, required=True, sensitive=True),
    Field("name", "ФИО", required=True),
    Field("phone", "Телефон", PHONE, sensitive=True),
    Field("birthday", "Дата рождения", DATE),
    Field("amount", "Сумма", NUMBER),
    Field("consent", "Согласие на рассылку", CHECKBOX),
    Field("status", "Статус", PICKLIST, values=("Новый", "В работе")),
]
NAMES = [f.name for f in FIELDS]
PILOT = [
    dict(zip(NAMES, values, strict=True))
    for values in (
        ("petr.ivanov@example.ru", "Иванов Пётр Сергеевич", "+79123456789", "1980-12-31",
         "1234.5", "да", "Новый"),
        ("david.cohen@example.co.il", "דוד כהן", "+972501234567", "1975-06-01", "12", "нет",
         "В работе"),
        ("wang.xiaoming@example.cn", "王小明", "+8613812345678", "", "", "", "Новый"),
        ("olena@example.ua", "Коваленко Олена", "+380441234567", "1979-04-03", "7", "так",
         "В работе"),
    )
]  # fmt: skip
HEADER = ["E-mail", "ФИО", "Телефон", "Дата рождения", "Сумма", "Согласие на рассылку", "Статус"]


def _rows(records=PILOT):
    return [[record.get(name) or "" for name in NAMES] for record in records]


def _returned(tmp_path, rows, header=HEADER, name="returned.csv", **options):
    return write_csv(tmp_path / name, [header, *rows], **options)


def _reconcile(tmp_path, rows, pilot=PILOT, header=HEADER, key="email", **options):
    path = _returned(tmp_path, rows, header)
    return reconcile(pilot, FIELDS, key, path, "returned.csv", **options)


def _kinds(result):
    return [(d.kind, d.key, d.field) for d in result.differences]


def test_a_perfect_round_trip_has_no_difference(tmp_path):
    result = _reconcile(tmp_path, _rows())
    assert result.differences == ()
    assert (result.pilot, result.matched, result.returned, result.unexpected) == (4, 4, 4, 0)
    assert result.absent == ()
    assert result.columns == dict(zip(NAMES, HEADER, strict=True))
    assert result.counts() == {
        MISSING: 0,
        DUPLICATE: 0,
        EMPTIED: 0,
        CHANGED: 0,
        UNEXPECTED: 0,
    }


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_pilot_file_itself_comes_back_unchanged(tmp_path, kind):
    pilot = [*PILOT, {**PILOT[0], "email": "formula@example.ru", "name": '=HYPERLINK("x")'}]
    path = tmp_path / f"pilot.{kind}"
    path.write_bytes(export(FIELDS, pilot, kind))
    result = reconcile(pilot, FIELDS, "email", path, path.name)
    assert result.differences == ()
    assert result.matched == 5


def test_how_the_new_crm_writes_values_is_no_difference(tmp_path):
    rows = [
        ["PETR.IVANOV@EXAMPLE.RU ", "  иванов   пётр сергеевич", "+7 912 345-67-89",
         "31.12.1980", "1 234,50", "Yes", "новый"],
        ["David.Cohen@Example.co.il", "דוד  כהן", "+972 50-123-4567", "01.06.1975 00:00:00",
         "12.00", "false", "В РАБОТЕ"],
        ["wang.xiaoming@example.cn", "王小明", "8613812345678", "", "", "No", "Новый"],
        ["olena@example.ua", "Коваленко Олена", "8 044 123 45 67", "03/04/1979", "7,0", "1",
         "В работе"],
    ]  # fmt: skip
    assert _reconcile(tmp_path, rows).differences == ()


@pytest.mark.parametrize(
    ("type_", "expected", "found", "kind"),
    [
        (PHONE, "+79123456789", "+7 912 345-67-89", None),
        (PHONE, "8 (912) 345-67-89", "+79123456789", None),
        (PHONE, "345-67-89", "3456789", None),
        (PHONE, "+8613812345678", "8613812345678", None),  # the same digits
        (PHONE, "нет", "НЕТ", None),
        (PHONE, "+79123456789", "+79123456780", CHANGED),
        (EMAIL, "Anna@Example.ru", " anna@example.RU", None),
        (DATE, "31.12.1980", "1980-12-31", None),
        (DATE, "1979-04-03", "03/04/1979", None),  # read either way: one of them
        (DATE, "1979-04-05", "03/04/1979", CHANGED),
        (DATE, "31.12.1980", "", EMPTIED),
        (NUMBER, "1 234,50", "1234.5", None),
        (NUMBER, "1234,5", "1235", CHANGED),
        (CHECKBOX, "Да", "TRUE", None),
        (CHECKBOX, "Нет", "", None),  # an unticked box is often exported empty
        (CHECKBOX, "", "no", None),
        (CHECKBOX, "да", "no", CHANGED),
        ("text", '\'=HYPERLINK("x")', '=HYPERLINK("x")', None),
        ("text", "Иванов  Пётр", "ИВАНОВ ПЁТР", None),
        ("text", "Иванов Пётр Сергеевич", "Иванов Пётр", CHANGED),
        ("text", None, "Новый", CHANGED),
        ("text", "Новый", None, EMPTIED),
        ("text", "  ", None, None),
    ],
)
def test_values_are_compared_as_their_type_reads_them(type_, expected, found, kind):
    assert compare(type_, expected, found, "RU") == kind


def test_a_dropped_record_is_missing(tmp_path):
    result = _reconcile(tmp_path, _rows()[:1] + _rows()[2:])
    assert _kinds(result) == [(MISSING, "david.cohen@example.co.il", None)]
    missing = result.differences[0]
    assert (missing.record, missing.reason, missing.rows) == (2, NOT_FOUND, ())
    assert result.matched == 3


def test_a_value_cut_short_is_changed_and_an_emptied_one_emptied(tmp_path):
    rows = _rows()
    rows[0][1] = "Иванов Пётр"
    rows[1][3] = ""
    result = _reconcile(tmp_path, rows)
    assert _kinds(result) == [
        (EMPTIED, "david.cohen@example.co.il", "birthday"),
        (CHANGED, "petr.ivanov@example.ru", "name"),
    ]
    emptied, changed = result.differences
    assert (emptied.expected, emptied.found, emptied.record, emptied.rows) == (
        "1975-06-01",
        None,
        2,
        (2,),
    )
    assert (changed.expected, changed.found) == ("Иванов Пётр Сергеевич", "Иванов Пётр")
    assert result.counts()[CHANGED] == result.counts()[EMPTIED] == 1


def test_a_key_twice_is_a_duplicate_and_the_closer_record_is_compared(tmp_path):
    rows = _rows()
    again = list(rows[2])
    again[1] = "王"  # a second, poorer record of the same key
    rows.insert(2, again)
    result = _reconcile(tmp_path, rows)
    assert _kinds(result) == [(DUPLICATE, "wang.xiaoming@example.cn", "email")]
    duplicate = result.differences[0]
    assert (duplicate.reason, duplicate.rows, duplicate.record) == (SAME_KEY, (3, 4), 3)
    assert result.unexpected == 0
    assert result.matched == 4


def test_records_sharing_a_phone_or_e_mail_are_a_duplicate(tmp_path):
    fields = [*FIELDS, Field("work_email", "Рабочий e-mail", EMAIL)]
    pilot = [{**record, "work_email": f"w{i}@example.ru"} for i, record in enumerate(PILOT)]
    header = [*HEADER, "Рабочий e-mail"]
    rows = [[*row, f"w{i}@example.ru"] for i, row in enumerate(_rows())]
    rows.append(["other@example.ru", "Другой", "8 912 345 67 89", "", "", "", "", "W1@example.ru"])
    path = _returned(tmp_path, rows, header)
    result = reconcile(pilot, fields, "email", path, "returned.csv")
    assert _kinds(result) == [
        (DUPLICATE, "david.cohen@example.co.il", "work_email"),
        (DUPLICATE, "petr.ivanov@example.ru", "phone"),
        (UNEXPECTED, "other@example.ru", None),
    ]
    by_field = {d.field: d for d in result.differences}
    assert (by_field["phone"].reason, by_field["phone"].rows) == (SAME_PHONE, (1, 5))
    assert (by_field["work_email"].reason, by_field["work_email"].rows) == (SAME_EMAIL, (2, 5))


def test_a_phone_the_pilot_itself_shares_is_no_duplicate(tmp_path):
    pilot = [dict(record) for record in PILOT]
    pilot[1]["phone"] = pilot[0]["phone"]  # one office phone for two people
    assert _reconcile(tmp_path, _rows(pilot), pilot=pilot).differences == ()


def test_records_not_in_the_pilot_are_unexpected_counted_and_the_first_listed(tmp_path):
    before = [[f"old{i:03}@example.ru", f"Старый {i}", "", "", "", "", ""] for i in range(150)]
    result = _reconcile(tmp_path, [*before, *_rows()])
    assert result.unexpected == 150
    assert result.counts()[UNEXPECTED] == 150
    listed = [d for d in result.differences if d.kind == UNEXPECTED]
    assert len(listed) == MAX_UNEXPECTED == len(result.differences)
    assert [d.key for d in listed] == [f"old{i:03}@example.ru" for i in range(100)]
    assert listed[0].rows == (1,)
    assert listed[0].record is None
    assert (result.returned, result.matched) == (154, 4)


def test_a_pilot_record_without_a_key_is_missing_with_its_reason(tmp_path):
    pilot = [*PILOT, {"email": " ", "name": "Без почты"}]
    result = _reconcile(tmp_path, _rows(), pilot=pilot)
    assert _kinds(result) == [(MISSING, " ", None)]
    assert (result.differences[0].reason, result.differences[0].record) == (NO_KEY, 5)


def test_a_keyless_record_the_new_crm_holds_as_sent_is_matched_by_its_other_fields(tmp_path):
    """Found by its name, phone and the rest, all as sent: matched, nothing to explain, and
    its row is not unexpected (the lead explained the same record twice before)."""
    keyless = {"email": "", "name": "Без почты", "phone": "+79161112233", "status": "Новый"}
    pilot = [*PILOT, keyless]
    other = _rows([{**keyless, "name": "Другой клиент"}])  # keyless too, but another person
    result = _reconcile(tmp_path, [*other, *_rows(pilot)], pilot=pilot)
    assert _kinds(result) == [(UNEXPECTED, None, None)]
    assert result.differences[0].rows == (1,)  # the other keyless row, whose name differs
    assert (result.unexpected, result.matched) == (1, 5)
    alone = _reconcile(tmp_path, other + _rows(), pilot=pilot)
    assert [(d.kind, d.reason) for d in alone.differences] == [
        (MISSING, NO_KEY),
        (UNEXPECTED, None),
    ]
    assert alone.matched == 4


def test_many_keyless_records_are_each_found_by_their_own_row(tmp_path):
    keyless = [
        {"email": "", "name": f"Клиент {i}", "phone": f"+7916111{i:04}", "consent": "нет"}
        for i in range(300)
    ]
    returned = _rows([{**r, "consent": ""} for r in reversed(keyless)])  # "нет" reads as empty
    result = _reconcile(tmp_path, returned, pilot=keyless)
    assert (result.differences, result.unexpected, result.matched) == ((), 0, 300)


def test_a_keyless_record_is_not_paired_with_a_stranger_by_a_status_alone(tmp_path):
    keyless = {"email": "", "name": "Без почты", "phone": "+79161112233", "status": "Новый"}
    pilot = [*PILOT, keyless]
    stranger = [["", "Новый"]]  # another customer without an e-mail, of the same status
    for header, rows in (
        (["E-mail"], [[r["email"]] for r in PILOT] + [[""]]),
        (["E-mail", "Статус"], [[r["email"], r["status"]] for r in PILOT] + stranger),
    ):
        path = _returned(tmp_path, rows, header=header)
        result = reconcile(pilot, FIELDS, "email", path, "returned.csv")
        assert [(d.kind, d.reason) for d in result.differences] == [
            (MISSING, NO_KEY),
            (UNEXPECTED, None),
        ]
        assert result.unexpected == 1


def test_a_keyless_record_sharing_a_phone_with_another_is_no_duplicate(tmp_path):
    spouse = {"email": "", "name": "Иванова Мария", "phone": PILOT[0]["phone"], "status": "Новый"}
    pilot = [*PILOT, spouse]
    result = _reconcile(tmp_path, _rows(pilot), pilot=pilot)
    assert (result.differences, result.matched) == ((), 5)


def test_keyless_twins_take_the_row_of_their_very_day_first(tmp_path):
    a = {"email": "", "name": "Близнец", "birthday": "1979-03-04"}
    b = {"email": "", "name": "Близнец", "birthday": "1979-04-03"}
    either = ["", "Близнец", "", "03/04/1979", "", "", ""]  # the 3rd of April or the 4th of March
    exact = ["", "Близнец", "", "1979-03-04", "", "", ""]
    result = _reconcile(tmp_path, [*_rows(), either, exact], pilot=[*PILOT, a, b])
    assert (result.differences, result.unexpected, result.matched) == ((), 0, 6)


def test_a_value_changed_again_is_a_new_difference_with_a_new_id(tmp_path):
    """An explanation sticks to its id: the same change in the next reconciliation keeps
    it, a change to another value needs a new one."""

    def changed_to(phone: str) -> str:
        rows = _rows()
        rows[0][2] = phone
        (difference,) = _reconcile(tmp_path, rows, secret=b"k" * 32).differences
        assert (difference.kind, difference.field) == (CHANGED, "phone")
        return difference.id

    first = changed_to("+7 999 000-00-00")
    assert changed_to("8 999 000 00 00") == first  # the same number, written otherwise
    assert changed_to("+7 000 000-00-01") != first


def test_differences_are_ordered_by_kind_then_key(tmp_path):
    rows = _rows()
    rows[3][1] = "Коваленко"  # changed
    rows[1][1] = "כהן"  # changed
    rows[0][3] = ""  # emptied
    del rows[2]  # missing
    rows.append(["zz@example.ru", "Новый клиент", "", "", "", "", ""])
    rows.append(["aa@example.ru", "Ещё один", "", "", "", "", ""])
    result = _reconcile(tmp_path, rows)
    assert _kinds(result) == [
        (MISSING, "wang.xiaoming@example.cn", None),
        (EMPTIED, "petr.ivanov@example.ru", "birthday"),
        (CHANGED, "david.cohen@example.co.il", "name"),
        (CHANGED, "olena@example.ua", "name"),
        (UNEXPECTED, "aa@example.ru", None),
        (UNEXPECTED, "zz@example.ru", None),
    ]


def test_a_windows_1251_file_with_semicolons_and_headers_in_another_case(tmp_path):
    header = [
        "e-mail",
        "фио",
        "ТЕЛЕФОН",
        "дата рождения",
        "СУММА",
        "Согласие на рассылку",
        "status",
    ]
    rows = _rows()
    rows = [row for row in rows if not row[0].startswith(("david", "wang"))]  # cp1251 has no
    pilot = [record for record in PILOT if record["email"].startswith(("petr", "olena"))]
    path = _returned(tmp_path, rows, header, encoding="cp1251", delimiter=";")
    result = reconcile(pilot, FIELDS, "email", path, "returned.csv")
    assert result.differences == ()
    assert result.columns["name"] == "фио"
    assert result.columns["status"] == "status"  # by the field's name
    chosen = reconcile(
        pilot, FIELDS, "email", path, "x.csv", encoding="windows-1251", delimiter=";"
    )
    assert chosen.differences == ()


def test_columns_the_lead_maps(tmp_path):
    header = ["Почта", "Имя", "Mobile", "Birthday"]
    rows = [[row[0], row[1], row[2], row[3]] for row in _rows()]
    path = _returned(tmp_path, rows, header)
    columns = {"email": "Почта", "name": "имя", "phone": "Mobile"}
    result = reconcile(PILOT, FIELDS, "email", path, "returned.csv", columns=columns)
    assert result.columns == {
        "email": "Почта",
        "name": "Имя",
        "phone": "Mobile",
        "birthday": "Birthday",
    }
    assert result.absent == ("amount", "consent", "status")
    assert result.differences == ()  # absent fields are no difference of every record


def test_a_header_is_matched_to_one_field_only():
    fields = [Field("phone", "Телефон", PHONE), Field("mobile", "Телефон", PHONE)]
    assert map_columns(fields, ["Телефон"], {}, "“x”") == {"phone": "Телефон"}


def test_a_phone_key_matches_however_the_crm_writes_it(tmp_path):
    rows = _rows()
    rows[0][2] = "8 (912) 345-67-89"
    rows[1][2] = "+972 50 123 4567"
    result = _reconcile(tmp_path, rows, key="phone")
    assert result.differences == ()
    assert result.matched == 4


def test_a_date_key_is_read_value_by_value(tmp_path):
    pilot = [record for record in PILOT if record["birthday"]]
    rows = _rows(pilot)
    rows[0][3] = "31.12.1980"
    result = _reconcile(tmp_path, rows, pilot=pilot, key="birthday")
    assert result.differences == ()
    assert result.matched == 3


def test_values_are_kept_for_the_lead_only(tmp_path):
    rows = _rows()
    rows[0][1] = "Иванов Пётр"
    rows[1][3] = ""
    del rows[2]
    rows.append(["stranger@example.ru", "Незнакомец Иван", "+7 999 111-22-33", "", "", "", ""])
    rows.append(["olena@example.ua", "Олена Коваленко", "+380441234567", "", "", "", ""])
    result = _reconcile(tmp_path, rows)
    assert {d.kind for d in result.differences} == {
        MISSING,
        DUPLICATE,
        EMPTIED,
        CHANGED,
        UNEXPECTED,
    }
    hidden = json.dumps(result.as_dict(values=False), ensure_ascii=False)
    shown = json.dumps(result.as_dict(values=True), ensure_ascii=False)
    values = {cell for row in [*_rows(), *rows] for cell in row if len(cell) > 3}
    for value in values:
        assert value not in hidden, value
    assert "Иванов Пётр" in shown
    assert "stranger@example.ru" in shown
    assert set(result.as_dict(values=False)["differences"][0]) == {
        "id",
        "kind",
        "field",
        "record",
        "rows",
        "reason",
    }
    assert json.loads(hidden)["counts"] == result.counts()


def test_ids_stay_from_one_run_to_the_next_and_differ_between_differences(tmp_path):
    rows = _rows()
    rows[0][1] = "Иванов"
    rows[0][3] = ""
    rows[1][1] = "כהן"
    del rows[3]
    rows.append(["new@example.ru", "Новый", "", "", "", "", ""])
    first = _reconcile(tmp_path, rows)
    again = _reconcile(tmp_path, list(reversed(rows)))  # another order, other row numbers
    ids = [d.id for d in first.differences]
    assert len(ids) == 5
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch("[0-9a-f]{12}", i) for i in ids)
    assert {d.id for d in again.differences} == set(ids)
    keyed = _reconcile(tmp_path, rows, secret=b"migration 7")
    assert not {d.id for d in keyed.differences} & set(ids)


def test_an_id_follows_the_key_as_its_type_reads_it(tmp_path):
    rows = _rows()
    rows[0][1] = "Иванов"
    pilot = [dict(record) for record in PILOT]
    first = _reconcile(tmp_path, rows, pilot=pilot)
    pilot[0]["email"] = "Petr.Ivanov@Example.ru"
    assert _reconcile(tmp_path, rows, pilot=pilot).differences[0].id == first.differences[0].id


def test_a_key_that_is_no_field_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="The key “login” is none of the fields"):
        _reconcile(tmp_path, _rows(), key="login")


def test_a_returned_file_without_the_key_column_is_refused(tmp_path):
    header = ["Почта", *HEADER[1:]]
    with pytest.raises(ValidationError, match="has no column for the key “E-mail”"):
        _reconcile(tmp_path, _rows(), header=header)


def test_an_empty_returned_file_is_refused(tmp_path):
    path = tmp_path / "returned.csv"
    path.write_bytes(b"")
    with pytest.raises(ValidationError, match="is empty"):
        reconcile(PILOT, FIELDS, "email", path, "returned.csv")


def test_a_returned_file_of_a_header_only_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="has a header but no rows"):
        _reconcile(tmp_path, [])


def test_a_mapping_to_an_unknown_field_or_header_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="“login” is none of the fields"):
        _reconcile(tmp_path, _rows(), columns={"login": "E-mail"})
    with pytest.raises(ValidationError, match="has no column “Mobile” for the field “Телефон”"):
        _reconcile(tmp_path, _rows(), columns={"phone": "Mobile"})


def test_a_pilot_of_no_record_or_of_too_many_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="no record"):
        _reconcile(tmp_path, _rows(), pilot=[])
    too_many = [{"email": f"{i}@example.ru"} for i in range(MAX_PILOT + 1)]
    with pytest.raises(ValidationError, match=f"at most {MAX_PILOT} records"):
        _reconcile(tmp_path, _rows(), pilot=too_many)


def test_an_unknown_region_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="no region"):
        _reconcile(tmp_path, _rows(), region="XX")
