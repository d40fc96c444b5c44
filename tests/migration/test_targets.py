"""Templates of the new CRM's fields and the recipe suggested for an export: Bitrix24 and
amoCRM headers in Russian and Ukrainian, HubSpot's in English, a whole name split, dates read
in the formats the profile saw, picklists mapped, and the suggestion applied end to end."""

from __future__ import annotations

import pytest

from planner.core.errors import ValidationError
from planner.migration.profiling import profile
from planner.migration.reading import read_table
from planner.migration.recipe import apply_file, clean, make_rule, parse
from planner.migration.targets import (
    FULL_NAME,
    SOURCES,
    TEMPLATES,
    detect_source,
    header_key,
    suggest,
    unmapped,
)
from tests.migration import files


def _columns(path) -> tuple[str, ...]:
    with read_table(path, path.name) as table:
        return table.columns


def _read(recipe) -> dict[str, tuple[tuple[str, ...], str]]:
    return {rule.field: (rule.sources, rule.transform) for rule in recipe.rules}


def test_templates_mark_personal_data_and_what_a_crm_requires():
    for entity, fields in TEMPLATES.items():
        names = [field.name for field in fields]
        assert len(names) == len(set(names)), entity
        sensitive = {f.name for f in fields if f.sensitive}
        assert {"email", "phone", "comment"} & set(names) <= sensitive, entity
        assert not any(f.required for f in fields if f.type == "email"), entity
    contacts = {f.name: f for f in TEMPLATES["contacts"]}
    assert {n for n, f in contacts.items() if f.required} == {"last_name"}
    for name in ("last_name", "first_name", "middle_name", "birthday", "address", "mobile"):
        assert contacts[name].sensitive, name
    assert [f.name for f in TEMPLATES["companies"] if f.required] == ["name"]
    deals = {f.name: f for f in TEMPLATES["deals"]}
    assert [n for n, f in deals.items() if f.required] == ["title"]
    assert deals["amount"].sensitive and deals["amount"].type == "number"
    assert deals["currency"].values


def test_every_source_names_fields_of_its_templates():
    for system, entities in SOURCES.items():
        for entity, headers in entities.items():
            names = {field.name for field in TEMPLATES[entity]} | {FULL_NAME}
            assert set(headers) <= names, (system, entity, set(headers) - names)


@pytest.mark.parametrize(
    ("header", "same"),
    [("E-mail", "email"), ("Ім’я", "Ім'я"), ("Дата  создания ", "дата создания"),
     ("Всё ещё", "все еще"), ("Рабочий телефон (контакт)", "рабочий телефон контакт")],
)  # fmt: skip
def test_headers_match_without_case_spaces_or_punctuation(header, same):
    assert header_key(header) == header_key(same)


def test_the_bitrix24_export_gets_its_recipe(tmp_path):
    columns = _columns(files.bitrix24(tmp_path))
    recipe = suggest(columns, "contacts")
    read = _read(recipe)
    assert read["last_name"] == (("ФИО",), "split_name")
    assert read["first_name"] == (("ФИО",), "split_name")
    assert read["middle_name"] == (("ФИО",), "split_name")
    assert recipe.rules[0].options == {"part": "last", "order": "last first middle"}
    assert read["phone"] == (("Телефон",), "phone")
    assert read["email"] == (("E-mail",), "email")
    assert read["birthday"] == (("Дата рождения",), "date")
    assert read["company"] == (("Компания",), "text")
    assert read["city"] == (("Місто",), "text")
    assert read["comment"] == (("Примітка",), "text")
    assert read["status"] == (("Статус",), "picklist")
    assert read["external_id"] == (("ID",), "text")
    assert recipe.key == "email"
    assert [f.name for f in recipe.fields] == [f.name for f in TEMPLATES["contacts"]]
    assert unmapped(recipe, columns) == ["Сумма"]
    assert detect_source(columns) == "bitrix24"
    assert parse(recipe.as_document()) == recipe


def test_the_suggested_recipe_cleans_the_bitrix24_export(tmp_path):
    path = files.bitrix24(tmp_path)
    recipe = suggest(_columns(path), "contacts")
    with read_table(path, path.name) as table:
        rows = clean(recipe, table.frame).rows.collect().rows_by_key("__row", named=True)
    first = rows[1][0]
    assert (first["last_name"], first["first_name"], first["middle_name"]) == (
        "Иванов",
        "Пётр",
        "Сергеевич",
    )
    assert first["phone"] == "+79123456789"
    assert first["birthday"] == "1980-12-31"
    assert rows[5][0]["phone"] == "+380501234567"
    assert rows[4][0]["birthday"] is None  # 03/04/1979: ambiguous, not guessed


def test_the_profile_chooses_date_formats_and_picklist_values(tmp_path):
    path = files.bitrix24(tmp_path)
    found = profile(path, path.name).as_dict()
    recipe = suggest(_columns(path), "contacts", profile=found)
    rules = {rule.field: rule for rule in recipe.rules}
    assert rules["birthday"].options["formats"] == ["dd.mm.yyyy", "yyyy-mm-dd"]
    assert rules["created"].options["formats"] == ["dd.mm.yyyy"]  # "dd.mm.yyyy hh:mm" seen
    status = rules["status"].options
    assert status["map"] == {v: v for v in ("Новый", "Успешно", "В работе", "Провал")}
    assert status["otherwise"] == "keep"
    without = suggest(_columns(path), "contacts")
    assert {rule.field: rule for rule in without.rules}["status"].options == {
        "map": {},
        "otherwise": "keep",
    }
    assert {rule.field: rule for rule in without.rules}["birthday"].options == {"formats": []}


def test_an_unambiguous_slashed_order_in_the_profile_is_chosen():
    column = {
        "name": "Дата рождения",
        "aggregates": {"formats": {"dd/mm/yyyy": 5, "dd/mm/yyyy or mm/dd/yyyy": 2, "other": 1}},
    }
    recipe = suggest(["ФИО", "Дата рождения"], "contacts", profile={"columns": [column]})
    assert recipe.rules[-1].options["formats"] == ["dd/mm/yyyy"]
    both = {"dd/mm/yyyy": 5, "mm/dd/yyyy": 1, "dd.mm.yyyy": 3}
    column["aggregates"]["formats"] = both
    recipe = suggest(["ФИО", "Дата рождения"], "contacts", profile={"columns": [column]})
    assert recipe.rules[-1].options["formats"] == ["dd.mm.yyyy"]


def test_a_currency_picklist_maps_the_words_it_knows():
    column = {
        "name": "Валюта",
        "aggregates": {"type": "picklist"},
        "values": {"top": [{"value": "руб.", "count": 9}, {"value": "usd", "count": 2},
                           {"value": "тугрик", "count": 1}]},
    }  # fmt: skip
    recipe = suggest(["Название сделки", "Валюта"], "deals", profile={"columns": [column]})
    currency = {rule.field: rule for rule in recipe.rules}["currency"]
    assert currency.options == {"map": {"руб.": "RUB", "usd": "USD"}, "otherwise": "reject"}
    assert parse(recipe.as_document()) == recipe


def test_ukrainian_headers_map_too():
    columns = ["Прізвище", "Ім'я", "По батькові", "Телефон", "Мобільний телефон",
               "Електронна пошта", "Дата народження", "Місто", "Посада", "Компанія",
               "Коментар", "Джерело"]  # fmt: skip
    recipe = suggest(columns, "contacts", region="UA")
    read = _read(recipe)
    assert read["last_name"] == (("Прізвище",), "text")
    assert read["first_name"] == (("Ім'я",), "text")
    assert read["middle_name"] == (("По батькові",), "text")
    assert read["mobile"] == (("Мобільний телефон",), "phone")
    assert read["email"] == (("Електронна пошта",), "email")
    assert read["birthday"] == (("Дата народження",), "date")
    assert {"city", "position", "company", "comment", "source"} <= read.keys()
    assert unmapped(recipe, columns) == []
    assert recipe.region == "UA"
    assert detect_source(columns) == "bitrix24"


def test_the_hubspot_export_maps_and_is_recognised(tmp_path):
    columns = _columns(files.hubspot(tmp_path))
    recipe = suggest(columns, "contacts", region="DE")
    read = _read(recipe)
    assert read["first_name"] == (("First Name",), "text")
    assert read["last_name"] == (("Last Name",), "text")
    assert read["email"] == (("Email",), "email")
    assert read["phone"] == (("Phone Number",), "phone")
    assert read["company"] == (("Company Name",), "text")
    assert read["created"] == (("Create Date",), "date")
    assert read["external_id"] == (("Record ID",), "text")
    assert "Annual Revenue" in unmapped(recipe, columns)
    assert detect_source(columns) == "hubspot"
    companies = suggest(columns, "companies")
    assert _read(companies)["revenue"] == (("Annual Revenue",), "number")
    more = ["Mobile Phone Number", "Job Title", "City", "Lifecycle Stage", "Date of birth"]
    assert {"mobile", "position", "city", "status", "birthday"} <= _read(
        suggest(more, "contacts")
    ).keys()
    deals = ["Deal Name", "Amount", "Deal Stage", "Close Date"]
    assert _read(suggest(deals, "deals")).keys() == {"title", "amount", "stage", "close_date"}


def test_the_amocrm_deals_export_maps_and_is_recognised(tmp_path):
    columns = _columns(files.amocrm(tmp_path))
    recipe = suggest(columns, "deals")
    read = _read(recipe)
    assert read["title"] == (("Название сделки",), "text")
    assert read["amount"] == (("Бюджет",), "number")
    assert read["contact_name"] == (("Полное имя контакта",), "text")
    assert read["company"] == (("Компания контакта",), "text")
    assert read["contact_phone"] == (("Рабочий телефон (контакт)",), "phone")
    assert read["contact_email"] == (("Рабочий email (контакт)",), "email")
    assert read["owner"] == (("Ответственный",), "text")
    assert read["tags"] == (("Теги",), "text")
    assert recipe.key == "title"  # no e-mail or phone field of the deal itself
    assert unmapped(recipe, columns) == []
    assert detect_source(columns) == "amocrm"
    assert _read(suggest(["Статус сделки", "Название сделки"], "deals"))["stage"][0] == (
        "Статус сделки",
    )


def test_an_amocrm_full_name_is_split_first_name_first():
    recipe = suggest(["Полное имя контакта", "Рабочий email", "Компания контакта"], "contacts")
    assert recipe.rules[0] == make_rule(
        "last_name", ["Полное имя контакта"], "split_name", part="last", order="first middle last"
    )


def test_the_key_is_the_email_else_the_phone_else_the_first_required_field():
    assert suggest(["ФИО", "Телефон", "E-mail"], "contacts").key == "email"
    assert suggest(["ФИО", "Телефон"], "contacts").key == "phone"
    assert suggest(["ФИО"], "contacts").key == "last_name"
    assert suggest(["Название компании"], "companies").key == "name"


def test_the_workbook_gets_its_recipe_and_its_file(tmp_path):
    path = files.workbook(tmp_path)
    recipe = suggest(_columns(path), "contacts")
    assert recipe.key == "phone"
    summary = apply_file(recipe, path, tmp_path / "out.csv")
    assert summary.counts["kept"] == 3


def test_unknown_entity_or_region_is_refused():
    with pytest.raises(ValidationError) as caught:
        suggest(["ФИО"], "tickets")
    assert "entity" in caught.value.errors
    with pytest.raises(ValidationError) as caught:
        suggest(["ФИО"], "contacts", region="XX")
    assert "region" in caught.value.errors


def test_a_file_of_no_known_crm_has_no_source():
    assert detect_source(["foo", "bar"]) is None
    assert detect_source([]) is None
    assert unmapped(suggest(["foo", "ФИО"], "contacts"), ["foo", "ФИО"]) == ["foo"]
