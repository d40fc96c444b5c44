"""The pilot batch: every problem kind in it, the rarest first when it is small, the rest spread
over the file, the same rows for the same seed; its file for the new CRM's import, formulas
neutralised, the same bytes every time."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter

import pytest
from python_calamine import CalamineWorkbook

from planner.migration import batches, targets
from planner.migration import recipe as engine
from planner.migration.fields import DATE, PHONE, Field
from planner.migration.pilot import FIXED_TIME, MAX_PILOT, choose, export, safe_cell
from planner.migration.reading import read_table
from tests.migration import files

ROWS = list(range(1, 1001))
KINDS = {
    3: {"phone reformatted"},
    10: {"phone reformatted", "date converted"},
    250: {"date converted"},
    400: {"merged duplicate"},
    401: {"merged duplicate"},
    402: {"merged duplicate"},
    700: {"formula neutralised"},
    900: {"ambiguous date", "phone reformatted"},
    999: {"optional field emptied"},
}
for _row in range(500, 560):
    KINDS[_row] = {"phone reformatted"}


def _kinds_in(chosen):
    return {kind for row in chosen for kind in KINDS.get(row, ())}


def test_every_kind_is_in_the_pilot():
    chosen = choose(ROWS, KINDS)
    assert len(chosen) == 20
    assert _kinds_in(chosen) == {kind for found in KINDS.values() for kind in found}
    assert chosen == sorted(chosen)
    assert set(chosen) <= set(ROWS)
    assert len(set(chosen)) == 20


def test_a_small_pilot_takes_the_rarest_kinds_first():
    chosen = choose(ROWS, KINDS, size=3)
    # ambiguous date, formula neutralised, optional field emptied: once each in the file
    assert chosen == [700, 900, 999]
    assert choose(ROWS, KINDS, size=1) == [900]  # "ambiguous date" comes first of the three


def test_a_row_showing_several_missing_kinds_is_preferred():
    kinds = {1: {"a"}, 2: {"b"}, 3: {"a", "b"}, 4: {"c"}}
    assert choose(range(1, 101), kinds, size=2) == [3, 4]


def test_the_same_seed_gives_the_same_pilot_and_another_seed_another():
    assert choose(ROWS, KINDS, seed=7) == choose(ROWS, KINDS, seed=7)
    assert choose(ROWS, KINDS, seed=7) != choose(ROWS, KINDS, seed=8)
    assert _kinds_in(choose(ROWS, KINDS, seed=8)) == _kinds_in(choose(ROWS, KINDS))


def test_the_rest_is_spread_evenly_over_the_file():
    for seed in range(5):
        chosen = choose(ROWS, {}, size=20, seed=seed)
        bands = [(row - 1) // 50 for row in chosen]
        assert bands == list(range(20))  # one row in every twentieth of the file


def test_rows_that_are_not_numbered_from_one():
    rows = [5, 9, 12, 40, 41, 77, 80, 81, 93, 100]
    chosen = choose(rows, {80: ["date converted"]}, size=4)
    assert 80 in chosen
    assert len(chosen) == 4
    assert set(chosen) <= set(rows)


def test_a_pilot_as_large_as_the_file_is_the_file():
    assert choose([4, 2, 9], {}, size=3) == [2, 4, 9]
    assert choose([4, 2, 9], {2: ["x"]}, size=20) == [2, 4, 9]
    assert choose([], {}, size=20) == []


def test_kinds_of_rows_that_were_not_kept_are_ignored():
    assert choose(range(1, 11), {50: ["formula neutralised"]}, size=1, seed=3) in [
        [r] for r in range(1, 11)
    ]


@pytest.mark.parametrize("size", [0, -1, MAX_PILOT + 1])
def test_a_pilot_size_out_of_bounds_is_refused(size):
    with pytest.raises(ValueError, match=f"1 to {MAX_PILOT} records"):
        choose(ROWS, KINDS, size=size)


FIELDS = [
    Field("name", "ФИО", required=True),
    Field("phone", "Телефон", PHONE),
    Field("birthday", "Дата рождения", DATE),
    Field("note", "Примечание"),
]
RECORDS = [
    {"name": "Иванов Пётр", "phone": "+79123456789", "birthday": "1980-12-31", "note": None},
    {"name": "כהן דוד", "phone": "+972501234567", "note": '=HYPERLINK("http://x.ru")'},
    {"name": "王小明", "phone": "-5", "birthday": "", "note": "@risky\nline"},
]


def test_the_csv_pilot_is_utf8_with_a_bom_commas_and_crlf():
    data = export(FIELDS, RECORDS, "csv")
    assert data.startswith(b"\xef\xbb\xbfname,phone,birthday,note\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["name", "phone", "birthday", "note"]
    assert rows[1] == ["Иванов Пётр", "+79123456789", "1980-12-31", ""]
    assert rows[2] == ["כהן דוד", "+972501234567", "", '\'=HYPERLINK("http://x.ru")']
    assert rows[3] == ["王小明", "-5", "", "'@risky\nline"]
    assert export(FIELDS, RECORDS, "csv") == data


def test_the_xlsx_pilot_opens_with_its_formulas_neutralised():
    data = export(FIELDS, RECORDS, "xlsx")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    rows = sheet.to_python()
    assert rows[0] == ["name", "phone", "birthday", "note"]
    assert rows[1][:3] == ["Иванов Пётр", "+79123456789", "1980-12-31"]
    assert rows[2][0] == "כהן דוד"
    assert rows[2][3] == '\'=HYPERLINK("http://x.ru")'
    assert rows[3][:2] == ["王小明", "-5"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("+79123456789", "+79123456789"),  # E.164: the new CRM must get it unchanged
        ("+7 (912) 345-67-89", "+7 (912) 345-67-89"),
        ("-1 234,50", "-1 234,50"),
        ("=1+2", "'=1+2"),
        ("+7 912 =cmd", "'+7 912 =cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("'Tis", "'Tis"),
        (None, ""),
    ],
)
def test_numbers_and_phone_numbers_are_no_formula(value, cell):
    assert safe_cell(value) == cell


def test_the_xlsx_pilot_is_the_same_bytes_every_time():
    data = export(FIELDS, RECORDS, "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as workbook:
        assert {info.date_time for info in workbook.infolist()} == {FIXED_TIME}
        core = workbook.read("docProps/core.xml").decode()
    assert "1980-01-01T00:00:00Z</dcterms:created>" in core
    assert "1980-01-01T00:00:00Z</dcterms:modified>" in core
    assert export(FIELDS, RECORDS, "xlsx") == data


def test_a_pilot_of_no_record_is_its_header():
    assert export(FIELDS, [], "csv") == b"\xef\xbb\xbfname,phone,birthday,note\r\n"


def test_another_kind_of_file_is_refused():
    with pytest.raises(ValueError, match="csv or xlsx"):
        export(FIELDS, RECORDS, "xls")  # type: ignore[arg-type]


def test_a_pilot_counts_changed_values_as_the_cleaning_does(tmp_path):
    """A part of a split name is no change, nor a value with a problem: the pilot's kinds say
    "changed" for the rows the preview counts as changed, and for those only; a formula is
    a kind of its own."""
    path = files.bitrix24(tmp_path)
    recipe = targets.suggest(list(files.BITRIX_HEADER), "contacts")
    with read_table(path, path.name) as table:
        cleaned = engine.clean(recipe, table.frame, with_changes=True)
        assert cleaned.counts["rejected"] == 0  # the kinds are of kept rows
        found = batches.row_kinds(cleaned)
    changed = Counter(kind for row in found.values() for kind in row if kind.endswith(" changed"))
    by_cleaning = {f"{field} changed": n for field, n in cleaned.counts["changed"].items() if n}
    assert dict(changed) == by_cleaning
    assert not any(kind.startswith(("first_name", "last_name", "middle_name")) for kind in changed)
    assert [row for row, kinds in found.items() if batches.FORMULA in kinds] == [3]


def test_a_value_a_merge_fills_in_is_no_change(tmp_path):
    """The winner takes the longer company of its duplicate: merged, not "company changed"."""
    rows = [
        files.BITRIX_HEADER,
        ("1", "Иванов Пётр", "Acme", "+79120001122", "a@example.ru", "", "", "", "Новый", "", ""),
        ("2", "Иванов Пётр", "Acme Corp", "+79120001122", "a@example.ru", "", "", "", "", "", ""),
    ]
    path = files.write_csv(tmp_path / "m.csv", rows, encoding="cp1251", delimiter=";")
    document = targets.suggest(list(files.BITRIX_HEADER), "contacts").as_document()
    document["merge"] = {"by": ["email"], "winner": "first", "fields": {"company": "longest"}}
    recipe = engine.parse(document)
    with read_table(path, path.name) as table:
        cleaned = engine.clean(recipe, table.frame, with_changes=True)
        found = batches.row_kinds(cleaned)
    assert cleaned.rows.collect()["company"].to_list() == ["Acme Corp"]
    assert found == {1: {batches.MERGED}}
