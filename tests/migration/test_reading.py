"""Reading an export: its encoding, delimiter and header found (or chosen), its rows streamed
into a columnar file, ragged rows counted or refused by line, and every file that is no table
refused with a message that names it."""

from __future__ import annotations

import tempfile

import pytest

from planner.core.errors import ValidationError
from planner.migration import reading
from planner.migration.reading import HASH, ROW, detect, read_table
from tests.migration import files


def _rows(table) -> list[tuple]:
    return table.frame.sort(ROW).collect().drop("__hash").rows()


@pytest.fixture(params=["in memory", "text in a file", "through Parquet"])
def held(request, monkeypatch):
    """Small files are transcoded and parsed in memory, large ones transcoded into a file and
    streamed into Parquet: every way."""
    if request.param != "in memory":
        monkeypatch.setattr(reading, "SPOOL_BYTES", 0)
    if request.param == "through Parquet":
        monkeypatch.setattr(reading, "HELD_BYTES", 0)
    return request.param


@pytest.mark.parametrize(
    ("encoding", "rows", "expected", "city", "last"),
    [
        ("utf-8", files.CYRILLIC, "utf-8", "Москва", "Їжачок, ґанок і є"),
        ("utf-8-sig", files.CYRILLIC, "utf-8-sig", "Москва", "Їжачок, ґанок і є"),
        ("utf-16", files.CYRILLIC, "utf-16", "Москва", "Їжачок, ґанок і є"),
        ("cp1251", files.CYRILLIC, "windows-1251", "Москва", "Їжачок, ґанок і є"),
        (
            "koi8_r",
            files.RUSSIAN,
            "koi8-r",
            "Москва",
            "Позвонить после обеда, уточнить объём заказа",
        ),
        ("cp1252", files.GERMAN, "windows-1252", "Köln", "Rückruf erwünscht, Größe prüfen"),
        ("iso8859_2", files.ROMANIAN, "iso-8859-2", "Iaşi", "Să sunaţi mâine după prânz, în ţară"),
    ],
)
def test_each_encoding_is_detected_and_read(tmp_path, encoding, rows, expected, city, last):
    path = files.encoded(tmp_path, encoding, rows)
    found = detect(path, "export.csv")
    assert (found.kind, found.encoding, found.delimiter, found.header_row) == (
        "csv",
        expected,
        ";",
        0,
    )
    with read_table(path, "export.csv") as table:
        assert table.columns == rows[0]
        assert table.rows == len(rows) - 1
        read = _rows(table)
        assert read[0][2] == city and read[-1][3] == last


def test_a_file_valid_as_utf_8_reads_as_utf_8_and_a_byte_order_mark_wins(tmp_path):
    ascii_only = files.write_csv(tmp_path / "a.csv", [("a", "b"), ("1", "2")])
    assert detect(ascii_only, "a.csv").notes[0] == "Encoding: UTF-8, the whole file is ASCII."
    utf16le = files.encoded(tmp_path, "utf-16-le", files.CYRILLIC, "le.csv")
    assert detect(utf16le, "le.csv").encoding == "utf-16-le"


@pytest.mark.parametrize(
    ("encoding", "rows", "expected"),
    [  # few capitals: charset-normalizer takes this one for Mac Cyrillic ("Ќазвание", "—умма")
        (
            "cp1251",
            [("Название", "Сумма"), ("Поставка", "100"), ("Лицензии", "300")],
            "windows-1251",
        ),
        (  # dashes and guillemets, which Windows-1251 would read as capitals: Mac it stays
            "mac_cyrillic",
            [("Имя", "Комментарий"), ("Мария Кузнецова", "—"), ("Николай Романов", "«VIP» клиент")],
            "mac-cyrillic",
        ),
    ],
)
def test_windows_1251_and_mac_cyrillic_are_told_apart_on_a_short_file(
    tmp_path, encoding, rows, expected
):
    path = files.write_csv(tmp_path / "short.csv", rows, encoding=encoding, delimiter=";")
    found = detect(path, "short.csv")
    assert found.encoding == expected
    with read_table(path, "short.csv") as table:
        assert table.columns == rows[0] and _rows(table)[1][1:] == rows[2]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(tmp_path, delimiter):
    rows = [("Имя", "Телефон", "Город"), ("Иван, мл.", "+7 912 345-67-89", "Москва")] * 1
    rows += [("Анна", "89120001122", "Київ")]
    path = files.write_csv(tmp_path / "d.csv", rows, delimiter=delimiter)
    assert detect(path, "d.csv").delimiter == delimiter
    with read_table(path, "d.csv") as table:
        assert _rows(table)[0][1:] == ("Иван, мл.", "+7 912 345-67-89", "Москва")


def test_the_header_is_found_below_a_title_and_a_sep_line_and_may_be_chosen(tmp_path):
    titled = files.write_csv(
        tmp_path / "t.csv",
        [("Имя", "Телефон", "Город"), ("Иван", "8 912", "Москва")],
        delimiter=";",
        before="Выгрузка контактов;;\r\n\r\n",
    )
    found = detect(titled, "t.csv")
    assert found.header_row == 2
    assert found.notes[-1] == "Header: line 3; the 2 lines above it are left out."
    with read_table(titled, "t.csv") as table:
        assert table.columns == ("Имя", "Телефон", "Город") and table.rows == 1
    with read_table(titled, "t.csv", header_row=0) as table:
        assert table.columns == ("Выгрузка контактов", "Column 2", "Column 3")
        assert table.rows == 2 and table.blank_rows == 1
    excel = tmp_path / "excel.csv"
    excel.write_bytes(b"sep=,\r\nName;Phone,City\r\nIvan;1,Kyiv\r\n")
    found = detect(excel, "excel.csv")
    assert (found.delimiter, found.header_row) == (",", 1)
    with read_table(excel, "excel.csv") as table:
        assert table.columns == ("Name;Phone", "City")


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_short_rows_are_padded_and_counted_line_breaks_in_values_kept(tmp_path, newline, held):
    path = files.ragged(tmp_path, newline=newline)
    with read_table(path, "ragged.csv") as table:
        assert (table.rows, table.blank_rows, table.short_rows) == (7, 1, 2)
        assert table.first_short == ((3, 4), (5, 7))
        rows = _rows(table)
    assert [row[0] for row in rows] == [1, 2, 3, 4, 5, 7, 8]  # row 6 is the blank line
    assert rows[2] == (3, "Сидоров Иван", "89120001122", None)
    assert rows[3] == (4, "Коваленко Олена", "+380 44\n123 4567", "Київ")
    assert rows[4] == (5, "Шевченко Тарас", None, None)
    assert rows[6] == (8, "Кузнецов Дмитрий", None, "Казань")


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_a_file_in_memory_reads_as_through_parquet(tmp_path, monkeypatch, newline):
    path = files.ragged(tmp_path, newline=newline)
    bitrix = files.bitrix24(tmp_path)
    found = []
    for limit in (reading.HELD_BYTES, 0):
        monkeypatch.setattr(reading, "HELD_BYTES", limit)
        monkeypatch.setattr(reading, "SPOOL_BYTES", limit)
        for each in (path, bitrix):
            with read_table(each, each.name) as table:
                found.append((table, table.frame.sort(ROW).collect()))
    for (memory, in_memory), (streamed, through_parquet) in zip(found[:2], found[2:], strict=True):
        assert (memory.rows, memory.short_rows, memory.first_short) == (
            streamed.rows,
            streamed.short_rows,
            streamed.first_short,
        )
        assert in_memory.columns == through_parquet.columns == [ROW, HASH, *memory.columns]
        assert in_memory.equals(through_parquet)


def test_a_row_with_more_fields_than_the_header_is_refused_by_row_and_line(tmp_path, held):
    path = files.ragged(tmp_path, long=True)
    with pytest.raises(ValidationError) as refused, read_table(path, "long.csv"):
        pass
    assert refused.value.detail.startswith(
        "“long.csv” has 1 row with more fields than its header's 3: row 7 (line 9)."
    )


def test_bytes_that_are_no_character_are_named_by_offset_and_line(tmp_path, held):
    bitrix = files.bitrix24(tmp_path)
    with pytest.raises(ValidationError) as refused, read_table(bitrix, "b.csv", encoding="utf-8"):
        pass
    assert refused.value.detail.startswith(
        "“b.csv” is not UTF-8 text: the byte 0xD4 at offset 3 (line 1) is no character in it."
    )
    lines = b"ID;Name\r\n" + b"".join(b"%d;Ivan\r\n" % i for i in range(120_000))
    late = tmp_path / "late.csv"
    late.write_bytes(lines + b"120000;Iv\xe1n\r\n")
    assert len(lines) > 1024 * 1024 and detect(late, "late.csv").encoding == "utf-8"
    with pytest.raises(ValidationError) as refused, read_table(late, "late.csv"):
        pass
    assert f"the byte 0xE1 at offset {len(lines) + 9:,} (line 120002)" in refused.value.detail


def test_a_value_in_quotes_never_closed_is_named_by_its_line(tmp_path, held):
    path = tmp_path / "q.csv"
    path.write_bytes(b'a;b\r\n1;2\r\n"3;4\r\n5;6\r\n')
    with pytest.raises(ValidationError) as refused, read_table(path, "q.csv"):
        pass
    assert refused.value.detail == (
        "“q.csv” could not be read as CSV: the value in quotes that starts on line 3 is not "
        "closed properly. Fix the quotes there, or choose another delimiter."
    )


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("pdf", "“report.csv” is a PDF document, not a spreadsheet"),
        ("png", "“photo.csv” is a PNG image, not a spreadsheet"),
        ("xls", "“old.xls” is an old Excel (.xls) workbook or a password-protected one"),
        ("html", "“export.csv” is a web page (HTML or XML), not CSV"),
        ("empty", "“empty.csv” is empty."),
        ("blank", "“blank.csv” is empty."),
        ("binary", "“data.csv” is neither an XLSX workbook nor CSV text: export it"),
        ("nul", "“nul.csv” has a NUL character on line 3"),
    ],
)
def test_files_that_are_no_table_are_refused_by_name(tmp_path, kind, message):
    path = files.hostile(tmp_path, kind)
    with pytest.raises(ValidationError) as refused, read_table(path, path.name):
        pass
    assert refused.value.detail.startswith(message)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    bomb = files.zip_bomb(tmp_path)
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(ValidationError) as refused:
        detect(bomb, "bomb.xlsx")
    assert refused.value.detail.startswith(
        "“bomb.xlsx” holds a part (“xl/worksheets/sheet1.xml”) packed more than 200 to 1"
    )
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ValidationError, match="“broken.xlsx” is not a readable XLSX workbook"):
        detect(broken, "broken.xlsx")


def test_a_workbooks_first_sheet_is_read_below_its_title(tmp_path, held):
    path = files.workbook(tmp_path)
    found = detect(path, "contacts.xlsx")
    assert (found.kind, found.encoding, found.delimiter, found.header_row) == (
        "xlsx",
        None,
        None,
        1,
    )
    with read_table(path, "contacts.xlsx") as table:
        assert table.columns == ("ФИО", "Телефон", "Дата рождения", "Сумма", "Комментарий")
        assert (table.rows, table.blank_rows, table.short_rows) == (3, 1, 0)
        rows = _rows(table)
    assert rows[0] == (
        1,
        "Иванов Иван",
        "+7 912 345-67-89",
        "1980-12-31",
        "1234.5",
        "Звонить\nутром",
    )
    assert rows[2] == (4, "Сидоров Иван", "+79120001122", "1985-07-15 09:30:00", "7", "=1+2")


def test_choices_that_cannot_be_are_refused_and_the_temporary_files_go(tmp_path, monkeypatch):
    path = files.bitrix24(tmp_path)
    for choice, message in [
        ({"encoding": "ebcdic"}, "“ebcdic” is no text encoding known here"),
        ({"header_row": -1}, "The header row of “b.csv” must be 0 or more"),
        ({"delimiter": ";;"}, "The delimiter of “b.csv” must be one character"),
        ({"header_row": 20}, "“b.csv” has no line 21 for a header"),
    ]:
        with pytest.raises(ValidationError) as refused, read_table(path, "b.csv", **choice):
            pass
        assert refused.value.detail.startswith(message)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    with read_table(path, "b.csv", encoding="cp1252") as table:
        assert table.detected.encoding == "cp1252"  # as chosen: mojibake, but no error
        assert len(list(work.iterdir())) == 1
    assert table.rows == 10 and list(work.iterdir()) == []
