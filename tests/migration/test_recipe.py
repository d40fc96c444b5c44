"""Cleaning recipes: the document parsed and every error named by its path, each
transformation on the values old CRMs export (phones, ambiguous and impossible dates, decimal
commas, yes and no), rows rejected or warned about, duplicates merged, and the written file:
spreadsheet-safe, deterministic, the same as the preview."""

from __future__ import annotations

import copy
import csv
import io
import json

import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from planner.core.errors import ValidationError
from planner.core.sheets import neutralise
from planner.migration import cleaning, writing
from planner.migration.fields import Field
from planner.migration.reading import ROW, read_table
from planner.migration.recipe import (
    TRANSFORMS,
    Merge,
    Recipe,
    apply_file,
    catalogue,
    check_columns,
    clean,
    clean_value,
    make_rule,
    parse,
    preview,
    spreadsheet_safe,
)
from tests.migration import files

FIELDS = (
    Field("last_name", "Last name", "text", required=True, sensitive=True),
    Field("first_name", "First name", "text", sensitive=True),
    Field("middle_name", "Middle name", "text", sensitive=True),
    Field("email", "E-mail", "email", sensitive=True),
    Field("phone", "Phone", "phone", sensitive=True),
    Field("birthday", "Birthday", "date", sensitive=True),
    Field("amount", "Amount", "number", sensitive=True),
    Field("status", "Status", "picklist", values=("new", "active", "lost")),
    Field("comment", "Comment", "text", sensitive=True),
    Field("source", "Source", "text"),
)
STATUSES = {"Новый": "new", "В работе": "active", "Успешно": "active", "Провал": "lost"}


def _recipe(merge: Merge | None = None, **rules) -> Recipe:
    """A contacts recipe for the Bitrix24 sample; ``rules`` replace rules by field."""
    made = {
        "last_name": make_rule("last_name", ["ФИО"], "split_name", part="last"),
        "first_name": make_rule("first_name", ["ФИО"], "split_name", part="first"),
        "middle_name": make_rule("middle_name", ["ФИО"], "split_name", part="middle"),
        "email": make_rule("email", ["E-mail"], "email"),
        "phone": make_rule("phone", ["Телефон"], "phone"),
        "birthday": make_rule("birthday", ["Дата рождения"], "date"),
        "amount": make_rule("amount", ["Сумма"], "number"),
        "status": make_rule("status", ["Статус"], "picklist", map=STATUSES),
        "comment": make_rule("comment", ["Примітка"], "text"),
        "source": make_rule("source", [], "constant", value="Bitrix24"),
    } | rules
    kept = tuple(rule for rule in made.values() if rule is not None)
    return Recipe("contacts", "RU", "email", FIELDS, kept, merge)


def _field(name: str) -> Field:
    return next(field for field in FIELDS if field.name == name)


def _one(transform: str, value: str | None, *, field: str = "comment", **options):
    rule = make_rule(field, ["column"], transform, **options)
    return clean_value(rule, _field(field), [value], "RU")


# --- transformations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8 (912) 345-67-89", "+79123456789"),
        ("+7 912 000-11-22", "+79120001122"),
        ("89120001122", "+79120001122"),
        ("8-916-111-22-33", "+79161112233"),
        ("8 050 123 45 67", "+380501234567"),
        ("+380 44 123 4567", "+380441234567"),
    ],
)
def test_phone_numbers_become_e164(value, expected):
    outcome = _one("phone", value, field="phone")
    assert (outcome.value, outcome.problem, outcome.changed) == (expected, None, True)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("345-67-89", "local number"),
        ("+7 (000) 000-00-00", "not a phone number"),
        ("нет", "not a phone number"),
        ("+79123456789, +79120001122", "several phone numbers"),
    ],
)
def test_what_is_no_phone_number_is_a_problem(value, kind):
    outcome = _one("phone", value, field="phone")
    assert (outcome.value, outcome.kind) == (None, kind)


def test_a_rule_may_read_phone_numbers_for_its_own_region():
    assert _one("phone", "030 12345678", field="phone").kind == "not a phone number"
    assert _one("phone", "030 12345678", field="phone").problem == "not a phone number of RU"
    german = _one("phone", "030 12345678", field="phone", region="DE")
    assert german.value == "+493012345678"


@pytest.mark.parametrize(
    ("value", "chosen", "expected", "kind"),
    [
        ("31.12.1980", [], "1980-12-31", None),
        ("1985-07-15", [], "1985-07-15", None),
        ("05.03.2024 14:22", [], "2024-03-05", None),
        ("25/12/1980", [], "1980-12-25", None),
        ("03/04/1979", [], None, "ambiguous date"),
        ("03/04/1979", ["dd.mm.yyyy"], None, "ambiguous date"),
        ("03/04/1979", ["dd/mm/yyyy"], "1979-04-03", None),
        ("03/04/1979", ["mm/dd/yyyy"], "1979-03-04", None),
        ("12/25/1980", ["dd/mm/yyyy"], None, "no such date"),
        ("31.02.1990", [], None, "no such date"),
        ("31.02.1990", ["dd.mm.yyyy"], None, "no such date"),
        ("1985-07-15", ["dd.mm.yyyy"], None, "date in another format"),
        ("45000", [], None, "not a date"),
        ("45000", ["excel serial"], "2023-03-15", None),
        ("завтра", [], None, "not a date"),
    ],
)
def test_dates_are_read_in_the_chosen_formats_and_never_guessed(value, chosen, expected, kind):
    outcome = _one("date", value, field="birthday", formats=chosen)
    assert (outcome.value, outcome.kind) == (expected, kind)


def test_an_ambiguous_date_says_why_without_quoting_it():
    outcome = _one("date", "03/04/1979", field="birthday")
    assert outcome.problem == "ambiguous date: day and month could be swapped"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1 234,50", "1234.5"),  # the shortest exact decimal: trailing zeros dropped
        ("12000,50", "12000.5"),
        ("1,250,000.00", "1250000"),
        ("98,500.50", "98500.5"),
        ("1 500 000", "1500000"),
        ("-5", "-5"),
        ("007", "7"),
        ("12345678901234567", "12345678901234567"),  # exact, not through a float
        ("0,1", "0.1"),
    ],
)
def test_numbers_get_a_decimal_point_and_no_grouping(value, expected):
    assert _one("number", value, field="amount").value == expected


def test_what_is_no_number_is_a_problem():
    assert _one("number", "100 руб.", field="amount").kind == "not a number"


@pytest.mark.parametrize(
    ("value", "options", "expected", "kind"),
    [
        (" Anna@Example.RU ", {}, "anna@example.ru", None),
        ("Anna@Example.RU", {"keep_case": True}, "Anna@example.ru", None),
        ("kuznetsov@mail", {}, None, "not an e-mail address"),
        ("нет", {}, None, "not an e-mail address"),
        ("anna@sever.ru, a.lebedeva@sever.ru", {}, None, "several e-mail addresses"),
    ],
)
def test_email_addresses(value, options, expected, kind):
    outcome = _one("email", value, field="email", **options)
    assert (outcome.value, outcome.kind) == (expected, kind)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Да", "true"), ("нет", "false"), ("Так", "true"), ("ні", "false"), ("yes", "true"),
     ("0", "false"), ("TRUE", "true"), ("false", "false")],
)  # fmt: skip
def test_yes_and_no_in_three_languages(value, expected):
    field = Field("consent", "Consent", "checkbox")
    outcome = clean_value(make_rule("consent", ["c"], "checkbox"), field, [value], "RU")
    assert outcome.value == expected
    assert clean_value(make_rule("consent", ["c"], "checkbox"), field, ["может"], "RU").kind


def test_picklist_maps_values_and_refuses_what_it_does_not_list():
    def run(value, **options):
        return _one("picklist", value, field="status", **options)

    assert run("Новый", map=STATUSES).value == "new"
    assert run("  в РАБОТЕ ", map=STATUSES).value == "active"  # case and spaces left out
    assert run("Отложен", map=STATUSES).kind == "not in the map"
    assert run("Отложен", map=STATUSES, otherwise="empty") == (run("", map=STATUSES))
    assert run("Отложен", map=STATUSES, otherwise="keep").kind == "not an allowed value"
    assert run("new", map=STATUSES, otherwise="keep").value == "new"


@pytest.mark.parametrize(
    ("name", "order", "expected"),
    [
        ("Иванов  Пётр Сергеевич", "last first middle", ("Пётр", "Иванов", "Сергеевич")),
        ("Петрова Анна", "last first middle", ("Анна", "Петрова", None)),
        ("Шевченко", "last first middle", (None, "Шевченко", None)),
        ("Иван Петров", "first last", ("Иван", "Петров", None)),
        ("Иван Иванович Петров", "first middle last", ("Иван", "Петров", "Иванович")),
        ("Мария", "first middle last", ("Мария", None, None)),
    ],
)
def test_a_full_name_is_split_by_its_order(name, order, expected):
    parts = tuple(
        _one("split_name", name, field=f"{part}_name", part=part, order=order).value
        for part in ("first", "last", "middle")
    )
    assert parts == expected


def test_text_join_and_constant():
    assert _one("text", "  Позвонить   после\t обеда \r\n утром ").value == (
        "Позвонить после обеда\nутром"
    )
    assert _one("text", "ООО ромашка", case="title").value == "Ооо Ромашка"
    assert _one("text", "   ").value is None
    assert _one("text", " a  b ", trim=False, collapse_spaces=False).value == " a  b "
    join = make_rule("comment", ["a", "b", "c"], "join", separator=", ")
    assert clean_value(join, _field("comment"), ["Москва", None, " ул. Ленина "], "RU").value == (
        "Москва, ул. Ленина"
    )
    constant = make_rule("source", [], "constant", value="Bitrix24")
    assert clean_value(constant, _field("source"), [], "RU").value == "Bitrix24"


@pytest.mark.parametrize(
    ("transform", "field", "value", "options"),
    [
        ("phone", "phone", "+7 (000) 000-00-00", {}),
        ("phone", "phone", "345-67-89", {}),
        ("date", "birthday", "03/04/1979", {}),
        ("date", "birthday", "31.02.1990", {}),
        ("number", "amount", "12 руб", {}),
        ("email", "email", "secret@nowhere", {}),
        ("picklist", "status", "Секретный статус", {"map": STATUSES}),
    ],
)
def test_problems_never_quote_the_value(transform, field, value, options):
    outcome = _one(transform, value, field=field, **options)
    assert outcome.problem and outcome.value is None
    assert value not in outcome.problem and value.lower() not in outcome.problem.lower()


def test_the_catalogue_is_json_and_names_every_transformation():
    found = json.loads(json.dumps(catalogue()))
    assert [t["name"] for t in found] == list(TRANSFORMS)
    assert {"text", "phone", "date", "number", "email", "checkbox", "picklist", "split_name",
            "join", "constant"} <= set(TRANSFORMS)  # fmt: skip
    text = next(t for t in found if t["name"] == "text")
    case = next(o for o in text["options"] if o["name"] == "case")
    assert (case["default"], case["choices"]) == ("none", ["none", "lower", "upper", "title"])


# --- the document ----------------------------------------------------------------------------


def test_a_recipe_survives_its_document():
    recipe = _recipe(Merge(("email", "phone"), "first", {"comment": "longest"}))
    document = json.loads(json.dumps(recipe.as_document()))
    assert parse(document) == recipe
    assert document["rules"][0] == {
        "field": "last_name",
        "from": ["ФИО"],
        "transform": "split_name",
        "options": {"part": "last", "order": "last first middle"},
    }


def test_options_left_out_get_their_defaults():
    document = _recipe().as_document()
    document["rules"][3]["options"] = {}
    assert parse(document).rules[3].options == {"keep_case": False}


def _broken(change) -> dict:
    document = copy.deepcopy(_recipe().as_document())
    change(document)
    return document


def _set(path: str, value):
    def change(document):
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (_set("format", "csv"), "format"),
        (_set("format_version", 2), "format_version"),
        (_set("format_version", True), "format_version"),
        (_set("entity", ""), "entity"),
        (_set("region", "XX"), "region"),
        (_set("key", "nope"), "key"),
        (_set("colour", "red"), "colour"),
        (_set("fields", {}), "fields"),
        (_set("fields", []), "fields"),
        (_set("fields", [FIELDS[0].as_dict()] * 201), "fields"),
        (_set("fields.0", "last_name"), "fields[0]"),
        (_set("fields.0.type", "money"), "fields[0].type"),
        (_set("fields.0.name", "x" * 121), "fields[0].name"),
        (_set("fields.0.name", "__row"), "fields[0].name"),
        (_set("fields.1.name", "last_name"), "fields[1].name"),
        (_set("fields.0.required", "yes"), "fields[0].required"),
        (_set("fields.0.values", ["a"]), "fields[0].values"),
        (_set("fields.7.values", [str(i) for i in range(1001)]), "fields[7].values"),
        (_set("fields.7.values", ["new", "new"]), "fields[7].values"),
        (_set("rules", [{}] * 201), "rules"),
        (_set("rules.0", []), "rules[0]"),
        (_set("rules.0.transform", "foo"), "rules[0].transform"),
        (_set("rules.0.field", "nope"), "rules[0].field"),
        (_set("rules.1.field", "last_name"), "rules[1].field"),
        (_set("rules.0.from", ["ФИО", "Имя"]), "rules[0].from"),
        (_set("rules.0.from", ["x" * 121]), "rules[0].from"),
        (_set("rules.9.from", ["ID"]), "rules[9].from"),
        (_set("rules.0.options", []), "rules[0].options"),
        (_set("rules.0.options.part", "nick"), "rules[0].options.part"),
        (_set("rules.0.options", {"order": "first last"}), "rules[0].options.part"),
        (_set("rules.0.options.colour", 1), "rules[0].options.colour"),
        (_set("rules.4.options.region", "XX"), "rules[4].options.region"),
        (_set("rules.4.transform", "date"), "rules[4].transform"),
        (_set("rules.5.options.formats", ["dd.mm"]), "rules[5].options.formats"),
        (_set("rules.5.options.formats", "dd.mm.yyyy"), "rules[5].options.formats"),
        (_set("rules.5.options.formats", ["dd/mm/yyyy", "mm/dd/yyyy"]),
         "rules[5].options.formats"),
        (_set("rules.3.options.keep_case", "no"), "rules[3].options.keep_case"),
        (_set("rules.7.options.map", {"Новый": "brand new"}), "rules[7].options.map"),
        (_set("rules.7.options.map", {"Новый": 1}), "rules[7].options.map"),
        (_set("rules.7.options.otherwise", "guess"), "rules[7].options.otherwise"),
        (_set("rules.9.options.value", "x" * 1001), "rules[9].options.value"),
        (_set("merge", {"by": ["nope"]}), "merge.by"),
        (_set("merge", {"by": []}), "merge.by"),
        (_set("merge", {"by": ["email"], "winner": "oldest"}), "merge.winner"),
        (_set("merge", {"by": ["email"], "fields": {"phone": "newest"}}), "merge.fields.phone"),
        (_set("merge", {"by": ["email"], "fields": {"nope": "longest"}}), "merge.fields.nope"),
        (_set("merge", "email"), "merge"),
    ],
)  # fmt: skip
def test_every_error_of_a_recipe_is_named_by_its_path(change, key):
    with pytest.raises(ValidationError) as caught:
        parse(_broken(change))
    assert key in caught.value.errors, caught.value.errors


def test_a_recipe_that_is_no_object_is_refused():
    with pytest.raises(ValidationError) as caught:
        parse(["not", "a", "recipe"])
    assert list(caught.value.errors) == ["document"]


def test_unknown_transformation_lists_the_known_ones():
    with pytest.raises(ValidationError) as caught:
        parse(_broken(_set("rules.0.transform", "foo")))
    (text,) = caught.value.errors["rules[0].transform"]
    assert text.startswith("Unknown transformation “foo”: one of text, phone, date")


@pytest.mark.parametrize(
    ("field", "value", "wrong"),
    [("status", "brand new", True), ("status", "new", False), ("amount", "1 234,5", True),
     ("amount", "1234.5", False), ("email", "x", True), ("source", "Bitrix24", False)],
)  # fmt: skip
def test_a_constant_must_be_what_its_field_holds(field, value, wrong):
    document = _recipe(**{field: make_rule(field, [], "constant", value=value)}).as_document()
    if wrong:
        with pytest.raises(ValidationError) as caught:
            parse(document)
        assert any(key.endswith(".options.value") for key in caught.value.errors)
    else:
        parse(document)


def test_check_columns_names_every_column_the_file_lacks():
    recipe = _recipe()
    check_columns(recipe, files.BITRIX_HEADER)
    columns = [c for c in files.BITRIX_HEADER if c not in ("Телефон", "Статус")] + ["статус "]
    with pytest.raises(ValidationError) as caught:
        check_columns(recipe, columns)
    assert set(caught.value.errors) == {"rules[4].from", "rules[7].from"}
    assert "did you mean" in caught.value.errors["rules[7].from"][0]
    assert "2 columns" in caught.value.detail


# --- a file cleaned --------------------------------------------------------------------------


def test_the_bitrix24_sample_is_cleaned_with_problems_listed(tmp_path):
    path = files.bitrix24(tmp_path)
    recipe = _recipe(last_name=make_rule("last_name", ["E-mail"], "email"))
    with read_table(path, path.name) as table:
        cleaned = clean(recipe, table.frame)
        rows = cleaned.rows.collect()
    # the last name is taken from the e-mail here, to have a required field fail
    rejected = cleaned.problems.filter(pl.col("severity") == "reject")
    assert rejected.select("row", "field", "kind").rows() == [
        (3, "last_name", "required field empty"),
        (7, "last_name", "not an e-mail address"),
        (8, "last_name", "required field empty"),
    ]
    assert rows[ROW].to_list() == [1, 2, 4, 5, 6, 9, 10]
    assert cleaned.counts["rows"] == 10
    assert cleaned.counts["rejected"] == 3
    assert cleaned.counts["kept"] == 7
    warnings = cleaned.problems.filter(pl.col("severity") == "warning")
    assert warnings.select("row", "field", "kind").rows() == [
        (4, "birthday", "ambiguous date"),
        (5, "birthday", "no such date"),
        (7, "email", "not an e-mail address"),
        (7, "phone", "local number"),
    ]
    first = rows.row(0, named=True)
    assert first["phone"] == "+79123456789"
    assert first["birthday"] == "1980-12-31"
    assert first["amount"] == "1234.5"
    assert first["status"] == "new"
    assert first["source"] == "Bitrix24"
    assert first["first_name"] == "Пётр"
    ambiguous = rows.filter(pl.col(ROW) == 4).row(0, named=True)
    assert ambiguous["birthday"] is None  # a problem in an optional field empties it
    # rewritten: all but the one in E.164 already (row 6) and the local number (row 7)
    assert cleaned.counts["changed"]["phone"] == 8
    assert cleaned.counts["warnings"]["ambiguous date"] == 1


def test_distinct_values_that_share_a_hash_are_joined_by_value(tmp_path, monkeypatch):
    path = files.bitrix24(tmp_path)
    with read_table(path, path.name) as table:
        by_hash = clean(_recipe(), table.frame)
        expected = (by_hash.rows.collect(), by_hash.problems)
        monkeypatch.setattr(cleaning, "_hashes_unique", lambda keys: False)
        by_value = clean(_recipe(), table.frame)
        assert by_value.rows.collect().equals(expected[0])
        assert by_value.problems.equals(expected[1])


def test_a_duplicate_pair_is_merged_into_one_row_by_policy(tmp_path):
    rows = [
        ("ФИО", "Телефон", "E-mail", "Примітка", "Сумма"),
        ("Иванов Иван", "8 912 345-67-89", "ivan@example.ru", "", ""),
        ("Петров Пётр", "+7 916 000-00-00", "petr@example.ru", "короткий", ""),
        ("Иванов Иван Иванович", "", "IVAN@example.ru ", "длинный комментарий", ""),
        ("Сидоров Семён", "+79161112233", "", "", "5"),
    ]
    path = files.write_csv(tmp_path / "dupes.csv", rows, delimiter=";")
    merge = Merge(
        ("email", "phone"),
        "most_complete",
        {"comment": "longest", "amount": "first_non_empty", "phone": "first_non_empty"},
    )
    recipe = _recipe(merge, birthday=None, status=None)
    with read_table(path, path.name) as table:
        cleaned = clean(recipe, table.frame)
        kept = cleaned.rows.collect()
    assert [group.as_dict() for group in cleaned.merges] == [
        {"into": 3, "rows": [1, 3], "by": ["email"]}
    ]
    assert kept[ROW].to_list() == [2, 3, 4]
    merged = kept.row(1, named=True)
    assert merged["middle_name"] == "Иванович"  # the winner: the most complete row
    assert merged["comment"] == "длинный комментарий"
    assert merged["amount"] is None
    assert merged["phone"] == "+79123456789"
    assert (cleaned.counts["merged"], cleaned.counts["groups"], cleaned.counts["kept"]) == (1, 1, 3)


def test_merge_winner_first_or_last(tmp_path):
    rows = [("ФИО", "E-mail"), ("Иванов Иван", "a@b.ru"), ("Иванов Иван Петрович", "A@b.ru")]
    path = files.write_csv(tmp_path / "pair.csv", rows, delimiter=";")
    for winner, row, middle in (("first", 1, None), ("last", 2, "Петрович")):
        recipe = _recipe(Merge(("email",), winner), phone=None, birthday=None, amount=None,
                         status=None, comment=None)  # fmt: skip
        with read_table(path, path.name) as table:
            kept = clean(recipe, table.frame).rows.collect()
        assert kept.select(ROW, "middle_name").rows() == [(row, middle)]


# --- the written file ------------------------------------------------------------------------


def _read_csv(path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_the_written_csv_is_spreadsheet_safe_and_deterministic(tmp_path):
    path = files.bitrix24(tmp_path)
    recipe = _recipe()
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    summary = apply_file(recipe, path, first)
    apply_file(recipe, path, second)
    assert first.read_bytes() == second.read_bytes()
    assert b"\r\n" in first.read_bytes()
    rows = _read_csv(first)
    assert rows[0] == [field.name for field in FIELDS]
    assert len(rows) == 1 + summary.counts["kept"] == 11
    by_name = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert by_name[2]["comment"] == '\'=HYPERLINK("http://x.ru")'
    assert by_name[0]["phone"] == "+79123456789"  # E.164 is no formula: written as it is
    assert by_name[1]["comment"] == "Перезвонить\nв понедельник"
    assert json.loads(json.dumps(summary.as_dict()))["kept"] == 10


def test_the_rejects_file_lists_rejected_rows(tmp_path):
    path = files.bitrix24(tmp_path)
    recipe = _recipe(last_name=make_rule("last_name", ["E-mail"], "email"))
    target, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    summary = apply_file(recipe, path, target, rejects=rejects)
    rows = _read_csv(rejects)
    assert rows[0] == ["row", "field", "severity", "kind", "reason"]
    refused = [row for row in rows[1:] if row[2] == "reject"]
    assert [(row[0], row[1], row[4]) for row in refused] == [
        ("3", "last_name", "the required field is empty"),
        ("7", "last_name", "not an e-mail address"),
        ("8", "last_name", "the required field is empty"),
    ]
    assert summary.counts["rejected"] == 3
    assert len(_read_csv(target)) == 1 + 7


def test_preview_shows_what_the_file_gets(tmp_path):
    path = files.bitrix24(tmp_path)
    recipe = _recipe()
    target = tmp_path / "out.csv"
    apply_file(recipe, path, target)
    written = _read_csv(target)[1:]
    with read_table(path, path.name) as table:
        shown = preview(recipe, table.frame, limit=100)
        pilot = preview(recipe, table.frame, rows=[7, 3])
    kept = [row for row in shown if not row["rejected"]]
    assert [[spreadsheet_safe(v) or "" for v in row["fields"].values()] for row in kept] == written
    assert [row["row"] for row in shown] == list(range(1, 11))  # file order
    assert shown[0]["source"]["Телефон"] == "8 (912) 345-67-89"
    assert [row["row"] for row in pilot] == [3, 7]
    assert [p["kind"] for p in pilot[1]["problems"]] == ["not an e-mail address", "local number"]
    assert pilot[1]["fields"] == shown[6]["fields"]


def test_the_written_xlsx_is_readable(tmp_path):
    path = files.workbook(tmp_path)
    fields = (FIELDS[0], FIELDS[1], FIELDS[4], FIELDS[5], FIELDS[6], FIELDS[8])
    rules = (
        make_rule("last_name", ["ФИО"], "split_name", part="last"),
        make_rule("first_name", ["ФИО"], "split_name", part="first"),
        make_rule("phone", ["Телефон"], "phone"),
        make_rule("birthday", ["Дата рождения"], "date"),
        make_rule("amount", ["Сумма"], "number"),
        make_rule("comment", ["Комментарий"], "text"),
    )
    recipe = Recipe("contacts", "RU", "phone", fields, rules)
    target = tmp_path / "out.xlsx"
    summary = apply_file(recipe, path, target, kind="xlsx")
    sheet = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert sheet[0] == ["last_name", "first_name", "phone", "birthday", "amount", "comment"]
    assert sheet[1] == ["Иванов", "Иван", "+79123456789", "1980-12-31", "1234.5", "Звонить\nутром"]
    assert sheet[3][1:4] == ["Иван", "+79120001122", "1985-07-15"]
    assert sheet[3][5] == "'=1+2"  # the workbook's text that starts a formula, neutralised
    assert summary.counts["kept"] == 3


def test_an_unknown_kind_of_file_is_refused(tmp_path):
    with pytest.raises(ValidationError):
        apply_file(_recipe(), files.bitrix24(tmp_path), tmp_path / "out.pdf", kind="pdf")


def test_a_file_without_the_recipes_columns_is_refused_before_writing(tmp_path):
    path = files.hubspot(tmp_path)
    target = tmp_path / "out.csv"
    with pytest.raises(ValidationError) as caught:
        apply_file(_recipe(), path, target)
    assert "rules[0].from" in caught.value.errors
    assert not target.exists()


@pytest.mark.parametrize(
    "value",
    ["=SUM(A1)", "+7 912", "-2+3+cmd", "@import", "\tx", "\rx", "+79123456789", "-5", "12.5",
     "+", "-", "=", "plain", "'quoted", "1e5", "+1.5", "--5"],
)  # fmt: skip
def test_the_polars_form_of_spreadsheet_safety_matches_the_python_one(value):
    frame = pl.DataFrame({"cell": [value]})
    assert frame.select(writing.safe_column("cell"))["cell"][0] == spreadsheet_safe(value)
    if value not in ("+79123456789", "-5", "12.5", "+1.5"):
        assert spreadsheet_safe(value) == neutralise(value)


def test_worker_processes_clean_as_this_process_does(tmp_path, monkeypatch):
    path = files.bitrix24(tmp_path)
    with read_table(path, path.name) as table:
        here = clean(_recipe(), table.frame)
        expected = (here.rows.collect(), here.problems, here.counts)
        monkeypatch.setattr(cleaning, "PROCESSES", 2)
        monkeypatch.setattr(cleaning, "PROCESSES_FROM", 1)
        spread = clean(_recipe(), table.frame)
        assert spread.rows.collect().equals(expected[0])
        assert spread.problems.equals(expected[1])
        assert spread.counts == expected[2]
