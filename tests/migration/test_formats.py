"""The classifiers of one value: dates (impossible and ambiguous ones), numbers, phone numbers
(the trunk-8 rules before phonenumbers), e-mails, yes/no, a column's type; and the promise
that polars reads the formats' patterns as Python does."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from planner.core.errors import ValidationError
from planner.migration import formats
from planner.migration.formats import (
    AMBIGUOUS,
    INVALID,
    VALID,
    boolean_format,
    email_format,
    infer_type,
    normalise_phone,
    parse_date,
    parse_number,
    phone_shape,
)


@pytest.mark.parametrize(
    ("value", "label", "status", "day"),
    [
        ("31.12.1980", "dd.mm.yyyy", VALID, dt.date(1980, 12, 31)),
        ("1.2.2024", "dd.mm.yyyy", VALID, dt.date(2024, 2, 1)),
        ("2024-03-05", "yyyy-mm-dd", VALID, dt.date(2024, 3, 5)),
        ("05-03-2024", "dd-mm-yyyy", VALID, dt.date(2024, 3, 5)),
        ("05.03.24", "dd.mm.yy", VALID, dt.date(2024, 3, 5)),
        ("05.03.70", "dd.mm.yy", VALID, dt.date(1970, 3, 5)),
        ("25/04/2024", "dd/mm/yyyy", VALID, dt.date(2024, 4, 25)),
        ("04/25/2024", "mm/dd/yyyy", VALID, dt.date(2024, 4, 25)),
        ("03/03/2024", "dd/mm/yyyy or mm/dd/yyyy", VALID, dt.date(2024, 3, 3)),
        ("03/04/2024", "dd/mm/yyyy or mm/dd/yyyy", AMBIGUOUS, None),
        ("31.02.2024", "dd.mm.yyyy", INVALID, None),
        ("29.02.2023", "dd.mm.yyyy", INVALID, None),
        ("29.02.2024", "dd.mm.yyyy", VALID, dt.date(2024, 2, 29)),
        ("13/13/2024", "dd/mm/yyyy or mm/dd/yyyy", INVALID, None),
        ("31/02/2024", "dd/mm/yyyy", INVALID, None),
        ("05.03.2024 14:22", "dd.mm.yyyy hh:mm", VALID, dt.date(2024, 3, 5)),
        ("05.03.2024 25:10", "dd.mm.yyyy hh:mm", INVALID, None),
        ("2024-03-05T14:22:09Z", "yyyy-mm-ddThh:mm:ssZ", VALID, dt.date(2024, 3, 5)),
        ("2024-03-05 14:22:09+03:00", "yyyy-mm-dd hh:mm:ss±hh:mm", VALID, dt.date(2024, 3, 5)),
        ("03/04/2024 10:00", "dd/mm/yyyy or mm/dd/yyyy hh:mm", AMBIGUOUS, None),
    ],
)
def test_a_date_has_a_format_and_is_valid_invalid_or_ambiguous(value, label, status, day):
    found = parse_date(value)
    assert (found.format, found.status, found.day) == (label, status, day)


def test_an_ambiguous_date_is_never_guessed_and_a_number_is_a_date_only_in_a_date_column():
    assert parse_date("03/04/2024").day is None
    assert parse_date("45352") is None
    serial = parse_date("45352", serials=True)
    assert (serial.format, serial.day, serial.has_time) == (
        "excel serial",
        dt.date(2024, 3, 1),
        False,
    )
    assert parse_date("45352,5", serials=True).has_time
    assert parse_date("12345", serials=True) is None  # 1933: no export's serial
    for text in ("", "завтра", "2024", "1.2.3", "31.12.1980 г."):
        assert parse_date(text) is None, text


@pytest.mark.parametrize(
    ("value", "label", "number"),
    [
        ("12", "integer", 12),
        ("-7", "integer", -7),
        ("007", "integer with leading zeros", 7),
        ("1.5", "decimal point", 1.5),
        ("1,5", "decimal comma", 1.5),
        ("12000,50", "decimal comma", 12000.5),
        ("1 234,50", "thousands separators", 1234.5),
        ("1\u00a0500\u00a0000", "thousands separators", 1_500_000),
        ("1,250,000.00", "thousands separators", 1_250_000),
        ("1,234,567", "thousands separators", 1_234_567),
        ("1.234.567,8", "thousands separators", 1_234_567.8),
        ("98,500.50", "thousands separators", 98_500.5),
    ],
)
def test_a_number_has_a_format_and_a_value(value, label, number):
    assert parse_number(value) == (label, number)


def test_text_with_a_unit_or_a_plus_is_no_number():
    for text in ("1 234 ₽", "15%", "+3", "1,2,3", "12 34", "", "abc"):
        assert parse_number(text) is None, text


@pytest.mark.parametrize(
    ("value", "label", "ru", "ua"),
    [
        ("+79123456789", "E.164", "+79123456789", "+79123456789"),
        ("+7 (912) 345-67-89", "international with +", "+79123456789", "+79123456789"),
        ("8 (912) 345-67-89", "national 8…", "+79123456789", "+79123456789"),
        ("89123456789", "national 8…", "+79123456789", "+79123456789"),
        ("8 050 123 45 67", "national 80…", "+380501234567", "+380501234567"),
        ("80501234567", "national 80…", "+380501234567", "+380501234567"),
        ("79123456789", "international without +", "+79123456789", "+79123456789"),
        ("380501234567", "international without +", "+380501234567", "+380501234567"),
        ("0049 30 12345678", "international 00", "+493012345678", "+493012345678"),
        ("345-67-89", "local", None, None),
        ("8 912 345 67 89, +7 912 000 11 22", "several numbers", None, None),
        ("+7 (000) 000-00-00", "international with +", None, None),
    ],
)
def test_phone_numbers_of_russia_and_ukraine_become_e164_by_the_trunk_rules(value, label, ru, ua):
    assert phone_shape(value, "RU").label == label
    assert normalise_phone(value, "RU") == ru
    assert normalise_phone(value, "UA") == ua


def test_national_numbers_read_with_the_region_and_text_is_no_phone():
    assert phone_shape("9123456789", "RU").label == "national"
    assert normalise_phone("9123456789", "RU") == "+79123456789"
    assert phone_shape("050 123 45 67", "UA").label == "national 0…"
    assert normalise_phone("050 123 45 67", "UA") == "+380501234567"
    assert normalise_phone("030 12345678", "DE") == "+493012345678"
    assert normalise_phone("0501234567", "RU") is None  # a Russian number never starts with 0
    for text in ("нет", "-", "+7 912 abc", ""):
        assert phone_shape(text, "RU") is None, text
    with pytest.raises(ValidationError, match="'XX' is no region"):
        formats.phone_shapes("XX")


def test_emails_valid_several_invalid_or_none():
    assert email_format("ivanov.petr@example.ru") == VALID
    assert email_format(" ANNA@Example.RU ") == VALID
    assert email_format("ivan@почта.рф") == VALID
    assert email_format("anna@sever.ru, a.lebedeva@sever.ru") == "several addresses"
    for text in ("kuznetsov@mail", "a@@b.ru", "Ivan <ivan@mail.ru>", "ivan @mail.ru"):
        assert email_format(text) == INVALID, text
    assert email_format("нет") is None


def test_yes_and_no_in_several_languages():
    assert [boolean_format(v) for v in ("Да", "нет", "Так", "ні", "TRUE", "0", "Y")] == [
        "да/нет",
        "да/нет",
        "так/ні",
        "так/ні",
        "true/false",
        "1/0",
        "y/n",
    ]
    assert boolean_format("может быть") is None


def _type(values, **kw):
    counts = list({v: values.count(v) for v in values}.items())
    return infer_type(
        counts, filled=len(values), distinct=len(counts), region=kw.pop("region", "RU"), **kw
    )


def test_a_columns_type_is_the_first_shape_four_fifths_of_it_have():
    assert _type(["31.12.1980", "01.02.1990", "03/04/1979", "нет", "1985-07-15"]) == "date"
    assert _type(["31.12.1980", "01.02.1990", "нет", "скоро", "1985-07-15"]) == "text"
    assert _type(["05.03.2024 14:22", "06.03.2024 09:05", "07.03.2024"]) == "datetime"
    assert _type(["01.02.2024", "45352", "45353"]) == "text"  # serials need half real dates
    assert _type(["01.02.2024", "02.02.2024", "45352", "03.02.2024", "04.02.2024"]) == "date"
    assert _type(["a@b.ru", "c@d.ru", "e@f", "g@h.ru", "-"]) == "email"
    assert _type(["12", "7", "100", "1 234,50"]) == "decimal"
    assert _type(["12", "7", "007", "-3"]) == "integer"
    assert _type(["Да", "Нет", "да"]) == "boolean"
    assert _type(["Новый", "Новый", "Успешно", "Провал", "Новый", "Успешно"]) == "picklist"
    assert _type(["Иванов", "Петров", "Сидоров"]) == "text"
    assert infer_type([], filled=0, distinct=0, region="RU") == "text"


def test_a_column_headed_phone_is_one_when_half_of_it_reads_as_numbers():
    """HubSpot's "Phone Number" read for Russia: three of five are numbers there; the rest,
    a US number and "n/a", are the problems its profile flags, not a reason to call it text."""
    values = ["+49 30 12345678", "+40 21 123 4567", "+7 912 345 67 89", "(555) 123-4567", "n/a"]
    assert _type(values, phone_column=True) == "phone"
    assert _type(values) == "text"
    assert _type(["+49 30 12345678", "n/a", "unknown", "-"], phone_column=True) == "text"


def test_bare_digits_are_phones_only_when_dialled_or_named_so():
    bare = ["89123456789", "89120001122", "79161112233"]
    assert _type(bare) == "integer"
    assert _type(bare, phone_column=True) == "phone"
    assert _type([*bare, "+7 912 345-67-89", "8 (912) 000-11-22"]) == "phone"
    assert _type(["1234.56", "7.5", "99.99"]) == "decimal"  # dots are no dialling


PHONES = [
    "+79123456789", "+7 (912) 345-67-89", "8 (912) 345-67-89", "89123456789", "8 050 123 45 67",
    "79123456789", "380501234567", "0049 30 12345678", "345-67-89", "9123456789", "нет",
    "8 912 345 67 89, +7 912 000 11 22", "+7 912 abc", "  +7 912 345 67 89  ", "+380 44\n123 4567",
]  # fmt: skip
NUMBERS = [
    "12", "-7", "007", "1.5", "1,5", "1 234,50", "1\u00a0500\u00a0000", "1,250,000.00",
    "1,234,567", "1.234.567,8", "1 234 ₽", "+3", "1,2,3", "", " 42 ",
]  # fmt: skip


@pytest.mark.parametrize("region", ["RU", "UA", "DE"])
def test_polars_reads_the_phone_patterns_as_python_does(region):
    shapes = formats.phone_shapes(region)
    text = pl.col("v").str.strip_chars()
    label = pl
    for shape in shapes:
        label = label.when(text.str.contains(formats.whole(shape.pattern))).then(
            pl.lit(shape.label)
        )
    got = pl.DataFrame({"v": PHONES}).select(label.otherwise(pl.lit(None)))["literal"].to_list()
    expected = [(s.label if (s := phone_shape(v, region)) else None) for v in PHONES]
    assert got == expected


def test_polars_reads_the_number_and_date_patterns_as_python_does():
    text = pl.col("v").str.strip_chars()
    label = pl
    for name, shape, _ in formats.NUMBER_SHAPES:
        label = label.when(text.str.contains(formats.whole(shape))).then(pl.lit(name))
    got = pl.DataFrame({"v": NUMBERS}).select(label.otherwise(pl.lit(None)))["literal"].to_list()
    assert got == [(found[0] if (found := parse_number(v)) else None) for v in NUMBERS]
    for label_, (pattern, _) in [("dd.mm.yyyy", formats.strptime_form("dd.mm.yyyy"))]:
        values = pl.Series(["31.12.1980", "1.2.2024", "05.03.24", "2024-03-05"])
        assert values.str.contains(formats.whole(pattern)).to_list() == [
            (d is not None and d.format == label_) for d in map(parse_date, values)
        ]
