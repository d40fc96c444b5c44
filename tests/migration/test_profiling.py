"""The profile of whole exports, in exact numbers: Bitrix24 (Windows-1251), amoCRM (UTF-8 with
a byte order mark), HubSpot (UTF-8, German and Romanian customers), a workbook; values kept
apart from counts; and the path for columns of many distinct values counting as the other."""

from __future__ import annotations

import json

import pytest

from planner.core.errors import ValidationError
from planner.migration import profiling, reading
from planner.migration.profiling import profile
from tests.migration import files


def _columns(found) -> dict[str, dict]:
    return {c["name"]: c for c in found.as_dict()["columns"]}


@pytest.fixture
def bitrix(tmp_path):
    path = files.bitrix24(tmp_path)
    return profile(path, "bitrix24-contacts.csv", required=("e-mail", "ИНН"))


def test_bitrix24_how_it_was_read_and_its_rows(bitrix):
    found = bitrix.as_dict()
    assert {k: found[k] for k in ("filename", "kind", "encoding", "delimiter", "header_row")} == {
        "filename": "bitrix24-contacts.csv",
        "kind": "csv",
        "encoding": "windows-1251",
        "delimiter": ";",
        "header_row": 0,
    }
    assert (found["rows"], found["blank_rows"], found["ragged"]) == (
        10,
        0,
        {"rows": 0, "first": []},
    )
    assert found["missing"] == {"e-mail": 2, "ИНН": 10} and found["absent"] == ["ИНН"]
    assert [c["name"] for c in found["columns"]] == list(files.BITRIX_HEADER)
    types = {c["name"]: c["aggregates"]["type"] for c in found["columns"]}
    assert types == {
        "ID": "integer",
        "ФИО": "text",
        "Компания": "text",
        "Телефон": "phone",
        "E-mail": "email",
        "Дата рождения": "date",
        "Дата создания": "datetime",
        "Сумма": "decimal",
        "Статус": "picklist",
        "Примітка": "text",
        "Місто": "picklist",
    }


def test_bitrix24_dates_ambiguous_and_impossible_ones_apart(bitrix):
    birthday = _columns(bitrix)["Дата рождения"]
    assert birthday["aggregates"] == {
        "type": "date",
        "filled": 9,
        "empty": 1,
        "empty_share": 0.1,
        "distinct": 6,
        "formula_cells": 0,
        "formats": {"dd.mm.yyyy": 6, "yyyy-mm-dd": 2, "dd/mm/yyyy or mm/dd/yyyy": 1},
        "estimated": [],
        "header_among_values": False,
        "invalid": 1,
        "ambiguous": 1,
    }
    assert birthday["values"]["min"] == "1980-12-31" and birthday["values"]["max"] == "1990-02-01"
    assert birthday["values"]["invalid_examples"] == ["31.02.1990"]
    assert birthday["values"]["ambiguous_examples"] == ["03/04/1979"]
    created = _columns(bitrix)["Дата создания"]["aggregates"]
    assert created["formats"] == {"dd.mm.yyyy hh:mm": 10}
    assert (created["invalid"], created["ambiguous"], created["distinct"]) == (0, 0, 9)


def test_bitrix24_phones_in_five_formats_normalised(bitrix):
    phone = _columns(bitrix)["Телефон"]
    assert phone["aggregates"]["formats"] == {
        "national 8…": 4,
        "international with +": 3,
        "E.164": 1,
        "local": 1,
        "national 80…": 1,
    }
    assert phone["aggregates"]["invalid"] == 0
    assert phone["values"]["normalised"] == [
        {"value": "8 (912) 345-67-89", "e164": "+79123456789"},
        {"value": "+7 912 000-11-22", "e164": "+79120001122"},
        {"value": "89120001122", "e164": "+79120001122"},
        {"value": "+380 44 123 4567", "e164": "+380441234567"},
        {"value": "8 050 123 45 67", "e164": "+380501234567"},
    ]


def test_bitrix24_numbers_emails_picklists_formulas(bitrix):
    columns = _columns(bitrix)
    amount = columns["Сумма"]
    assert amount["aggregates"]["formats"] == {
        "integer": 4,
        "thousands separators": 4,
        "decimal comma": 1,
    }
    assert (amount["values"]["min"], amount["values"]["max"]) == (5.5, 1_500_000.0)
    ids = columns["ID"]
    assert (ids["values"]["min"], ids["values"]["max"], ids["aggregates"]["distinct"]) == (1, 9, 9)
    assert ids["values"]["top"] == [{"value": "9", "count": 2}]
    email = columns["E-mail"]
    assert email["aggregates"]["formats"] == {"valid": 7, "invalid": 1}
    assert (email["aggregates"]["empty"], email["aggregates"]["invalid"]) == (2, 1)
    assert email["values"]["invalid_examples"] == ["kuznetsov@mail"]
    status = columns["Статус"]["values"]["top"]
    assert status == [
        {"value": "Новый", "count": 4},
        {"value": "Успешно", "count": 3},
        {"value": "В работе", "count": 2},
        {"value": "Провал", "count": 1},
    ]
    note = columns["Примітка"]
    assert (note["aggregates"]["formula_cells"], note["aggregates"]["empty"]) == (1, 7)
    assert note["values"]["formula_examples"] == ['=HYPERLINK("http://x.ru")']
    assert "Перезвонить\nв понедельник" in note["values"]["examples"]
    assert columns["ФИО"]["values"]["top"] == [
        {"value": "Морозова Ольга", "count": 2},
        {"value": "Петрова Анна", "count": 2},
    ]


def test_bitrix24_duplicates_of_every_reason(bitrix):
    found = bitrix.as_dict()["duplicates"]
    assert found["columns"] == {
        "name": ["ФИО"],
        "company": "Компания",
        "email": "E-mail",
        "phone": "Телефон",
    }
    assert found["by_reason"] == {
        "identical rows": 1,
        "same e-mail": 2,
        "same phone": 3,
        "similar name in the same company": 3,
    }
    assert found["total"] == 9 and found["listed"] == 4
    assert found["groups"] == [
        {
            "reason": "same phone",
            "rows": [1, 8],
            "size": 2,
            "also": ["similar name in the same company"],
            "values": {"shared": ["+79123456789"]},
        },
        {"reason": "same phone", "rows": [2, 3, 6], "size": 3, "also": [],
         "values": {"shared": ["+79120001122"]}},
        {"reason": "same e-mail", "rows": [2, 6], "size": 2,
         "also": ["similar name in the same company"], "values": {"shared": ["anna@example.ru"]}},
        {"reason": "identical rows", "rows": [9, 10], "size": 2,
         "also": ["same e-mail", "same phone", "similar name in the same company"],
         "values": {"shared": []}},
    ]  # fmt: skip


def test_without_values_no_value_of_the_file_is_left(bitrix):
    hidden = bitrix.as_dict(values=False)
    text = json.dumps(hidden, ensure_ascii=False)
    for secret in ("Иванов", "Петрова", "ivanov", "912", "Ромашка", "1980", "HYPERLINK", "Москва"):
        assert secret not in text, secret
    assert all("values" not in column for column in hidden["columns"])
    assert all("values" not in group for group in hidden["duplicates"]["groups"])
    assert hidden["columns"][3]["aggregates"] == bitrix.as_dict()["columns"][3]["aggregates"]


def test_amocrm_deals_with_their_contacts(tmp_path):
    found = profile(files.amocrm(tmp_path), "amocrm-leads.csv").as_dict()
    assert (found["encoding"], found["delimiter"], found["rows"]) == ("utf-8-sig", ",", 5)
    columns = {c["name"]: c for c in found["columns"]}
    budget = columns["Бюджет"]
    assert budget["aggregates"]["type"] == "decimal"
    assert budget["aggregates"]["formats"] == {"integer": 3, "decimal comma": 1}
    assert (budget["values"]["min"], budget["values"]["max"]) == (12000.5, 150000.0)
    assert columns["Дата создания"]["aggregates"]["formats"] == {"dd.mm.yyyy hh:mm:ss": 5}
    phone = columns["Рабочий телефон (контакт)"]["aggregates"]
    assert phone["formats"] == {"international with +": 4, "national 8…": 1}
    assert phone["invalid"] == 1
    assert columns["Рабочий телефон (контакт)"]["values"]["invalid_examples"] == [
        "+7 (000) 000-00-00"
    ]
    email = columns["Рабочий email (контакт)"]
    assert email["aggregates"]["type"] == "email"
    assert email["aggregates"]["formats"] == {"valid": 3, "several addresses": 1, "other": 1}
    assert email["values"]["other_examples"] == ["нет"]
    duplicates = found["duplicates"]
    assert duplicates["columns"]["name"] == ["Полное имя контакта"]
    assert duplicates["columns"]["company"] == "Компания контакта"
    assert duplicates["by_reason"] == {
        "identical rows": 0,
        "same e-mail": 1,
        "same phone": 1,
        "similar name in the same company": 1,
    }
    assert [(g["reason"], g["rows"], g["also"]) for g in duplicates["groups"]] == [
        ("same e-mail", [1, 2], []),
        ("same phone", [1, 2, 5], ["similar name in the same company"]),
    ]
    assert duplicates["groups"][1]["values"]["shared"] == ["+74951234567"]


def test_hubspot_german_and_romanian_customers_read_with_a_region(tmp_path):
    found = profile(files.hubspot(tmp_path), "hubspot.csv", default_region="DE").as_dict()
    assert (found["encoding"], found["delimiter"], found["rows"]) == ("utf-8", ",", 4)
    columns = {c["name"]: c for c in found["columns"]}
    assert columns["First Name"]["values"]["examples"] == ["Jürgen", "Ștefan", "Ana"]
    phone = columns["Phone Number"]
    assert phone["aggregates"]["formats"] == {
        "international with +": 2,
        "international 00": 1,
        "national 0…": 1,
    }
    assert [n["e164"] for n in phone["values"]["normalised"]] == [
        "+493012345678",
        "+40211234567",
        "+49891234567",
        "+493012345678",
    ]
    revenue = columns["Annual Revenue"]
    assert revenue["aggregates"]["formats"] == {"thousands separators": 2, "integer": 1}
    assert (revenue["values"]["min"], revenue["values"]["max"]) == (98500.5, 1250000.0)
    status = columns["Marketing contact status"]["aggregates"]
    assert (status["type"], status["formats"]) == ("boolean", {"true/false": 4})
    assert columns["Create Date"]["aggregates"]["formats"] == {"yyyy-mm-dd hh:mm": 4}
    duplicates = found["duplicates"]
    assert duplicates["columns"]["name"] == ["Last Name", "First Name"]
    assert duplicates["groups"] == [
        {
            "reason": "same e-mail",
            "rows": [1, 4],
            "size": 2,
            "also": ["same phone", "similar name in the same company"],
            "values": {"shared": ["j.mueller@beispiel.de"]},
        }
    ]


def test_a_workbook_with_real_dates_and_numbers(tmp_path):
    found = profile(files.workbook(tmp_path), "contacts.xlsx").as_dict()
    assert (found["kind"], found["header_row"], found["rows"], found["blank_rows"]) == (
        "xlsx",
        1,
        3,
        1,
    )
    columns = {c["name"]: c for c in found["columns"]}
    birthday = columns["Дата рождения"]
    assert birthday["aggregates"]["formats"] == {"yyyy-mm-dd": 2, "yyyy-mm-dd hh:mm:ss": 1}
    assert birthday["aggregates"]["type"] == "date"
    amount = columns["Сумма"]
    assert amount["aggregates"]["formats"] == {"integer": 2, "decimal point": 1}
    assert columns["Комментарий"]["aggregates"]["formula_cells"] == 1
    groups = found["duplicates"]["groups"]
    assert [(g["reason"], g["rows"]) for g in groups] == [("same phone", [2, 4])]


def test_a_header_without_rows_and_an_unknown_region_are_refused(tmp_path):
    with pytest.raises(ValidationError) as refused:
        profile(files.hostile(tmp_path, "header"), "header-only.csv")
    assert refused.value.detail == (
        "“header-only.csv” has a header but no rows below it: there is nothing to profile."
    )
    with pytest.raises(ValidationError, match="'XX' is no region"):
        profile(files.bitrix24(tmp_path), "b.csv", default_region="xx")


def test_the_path_for_many_distinct_values_counts_as_the_path_for_few(tmp_path, monkeypatch):
    path = files.bitrix24(tmp_path)
    few = profile(path, "b.csv").as_dict()
    monkeypatch.setattr(profiling, "FEW_DISTINCT", 0)  # every column counted cell by cell
    monkeypatch.setattr(profiling, "SAMPLE", 3)  # types from a sample of three cells
    many = profile(path, "b.csv").as_dict()
    for a, b in zip(few["columns"], many["columns"], strict=True):
        counted = ("filled", "empty", "distinct", "formula_cells", "invalid", "ambiguous")
        assert {k: a["aggregates"].get(k) for k in counted} == {
            k: b["aggregates"].get(k) for k in counted
        }, a["name"]
        if a["aggregates"]["type"] == b["aggregates"]["type"]:
            assert a["aggregates"]["formats"] == b["aggregates"]["formats"], a["name"]
            assert a["values"].get("min") == b["values"].get("min"), a["name"]
    assert few["duplicates"] == many["duplicates"]


@pytest.mark.parametrize("few", [profiling.FEW_DISTINCT, 0])
def test_a_file_or_column_held_in_memory_profiles_as_one_streamed(tmp_path, monkeypatch, few):
    monkeypatch.setattr(profiling, "FEW_DISTINCT", few)
    paths = [files.bitrix24(tmp_path), files.ragged(tmp_path, newline="\n")]
    held = [profile(path, path.name).as_dict() for path in paths]
    monkeypatch.setattr(reading, "SPOOL_BYTES", 0)  # transcoded into a file
    monkeypatch.setattr(reading, "HELD_BYTES", 0)  # and streamed into Parquet
    monkeypatch.setattr(profiling, "HELD_BYTES", 0)  # each query streams the column
    assert [profile(path, path.name).as_dict() for path in paths] == held
