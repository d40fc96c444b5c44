"""Duplicate groups: which columns say who a customer is (Russian, Ukrainian, English
headers), and rows that are one customer by e-mail, phone or a near-identical name in the same
company, or identical; each group with its reason and rows, counted beyond the cap."""

from __future__ import annotations

import polars as pl
import pytest

from planner.migration.duplicates import Roles, find_duplicates, guess_roles, header_role
from planner.migration.reading import ROW


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("ФИО", "name"),
        ("Полное имя контакта", "name"),
        ("Имя", "first_name"),
        ("Ім'я", "first_name"),
        ("Ім’я", "first_name"),
        ("First Name", "first_name"),
        ("Фамилия", "last_name"),
        ("Прізвище", "last_name"),
        ("Last Name", "last_name"),
        ("Отчество", "middle_name"),
        ("Компания", "company"),
        ("Компанія", "company"),
        ("Company Name", "company"),
        ("Название компании", "company"),
        ("Телефон", "phone"),
        ("Рабочий телефон (контакт)", "phone"),
        ("Phone Number", "phone"),
        ("Тел.", "phone"),
        ("Мобільний", "phone"),
        ("E-mail", "email"),
        ("Email", "email"),
        ("Рабочий e-mail", "email"),
        ("Електронна пошта", "email"),
        ("Дата рождения", None),
        ("Ответственный", None),
        ("Сумма", None),
    ],
)
def test_headers_say_who_a_customer_is(header, role):
    assert header_role(header) == role


def test_the_first_column_of_each_role_and_a_name_in_parts():
    assert guess_roles(["ID", "ФИО", "Телефон", "Мобильный телефон", "E-mail"]) == Roles(
        ("ФИО",), None, "E-mail", "Телефон"
    )
    assert guess_roles(["First Name", "Last Name", "Company Name", "Email"]) == Roles(
        ("Last Name", "First Name"), "Company Name", "Email", None
    )
    assert guess_roles(["Фамилия", "Имя", "Отчество", "Компанія"]).name == (
        "Фамилия",
        "Имя",
        "Отчество",
    )
    assert guess_roles(["a", "b"]) == Roles()


def _frame(rows: list[tuple], columns: list[str]) -> pl.LazyFrame:
    data = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    frame = pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))
    return frame.with_row_index(ROW, offset=1).lazy()


COLUMNS = ["ФИО", "Компания", "Телефон", "E-mail"]


def _groups(rows, **kw):
    found = find_duplicates(_frame(rows, COLUMNS), COLUMNS, **kw)
    return found, [(g.reason, list(g.rows), g.also, g.shared) for g in found.groups]


def test_the_same_customer_by_e_mail_and_by_phone_in_any_format():
    _, groups = _groups(
        [
            ("Иванов Иван", "", "8 (912) 345-67-89", "Ivan@Example.ru"),
            ("Петров Пётр", "", "+7 912 345 67 89", "petr@example.ru"),
            ("Сидоров", "", "8 050 123 45 67", "ivan@example.ru, boss@example.ru"),
            ("Коваленко", "", "+380 50 123 4567", "нет"),
            ("Кузнецов", "", "345-67-89", "нет"),
            ("Морозов", "", "345-67-89", ""),
        ]
    )
    assert groups == [
        ("same phone", [1, 2], (), ("+79123456789",)),
        ("same e-mail", [1, 3], (), ("ivan@example.ru",)),
        ("same phone", [3, 4], (), ("+380501234567",)),
    ]  # a local number and "нет" are nobody's key


def test_names_alike_in_the_same_company_whatever_the_order_case_or_legal_form():
    _, groups = _groups(
        [
            ("Иванов Иван Петрович", "ООО «Ромашка»", "", ""),
            ("иван иванов петрович", 'ООО "Ромашка"', "", ""),
            ("Иванов Иван", "Ромашка", "", ""),
            ("Петрова Анна", "ООО Ромашка", "", ""),
            ("Петрова Ана", "ромашка", "", ""),
            ("Петрова Анна", "ООО Вектор", "", ""),
            ("Сидорова Мария", "ООО Вектор", "", ""),
            ("Петрова Анна", "", "", ""),
        ]
    )
    assert groups == [
        ("similar name in the same company", [1, 2], (), ("иван иванов петрович",)),
        ("similar name in the same company", [4, 5], (), ("ана петрова", "анна петрова")),
    ]  # "Иванов Иван" is a shorter name; Петрова Анна of Вектор or of no company is another


def test_identical_rows_and_a_group_found_for_several_reasons_listed_once():
    row = ("Иванов Иван", "ООО Ромашка", "89123456789", "ivan@example.ru")
    found, groups = _groups([row, ("Петров", "", "", ""), row])
    assert groups == [
        (
            "identical rows",
            [1, 3],
            ("same e-mail", "same phone", "similar name in the same company"),
            (),
        )
    ]
    assert found.counts == {
        "identical rows": 1,
        "same e-mail": 1,
        "same phone": 1,
        "similar name in the same company": 1,
    }


def test_groups_beyond_the_cap_are_counted_not_listed_and_big_groups_cut():
    rows = [(f"Клиент {i}", "", "", f"client{i // 2}@example.ru") for i in range(20)]
    rows += [("Общий", "", "", "info@example.ru")] * 60
    found, groups = _groups(rows, max_groups=3)
    assert found.counts["same e-mail"] == 11 and len(groups) == 3
    assert [g[1] for g in groups] == [[1, 2], [3, 4], [5, 6]]
    shared = find_duplicates(_frame(rows, COLUMNS), COLUMNS, max_groups=20).groups[-1]
    assert shared.size == 60 and len(shared.rows) == 50 and shared.rows[0] == 21
    summary = find_duplicates(_frame(rows, COLUMNS), COLUMNS).as_dict(values=False)
    assert summary["by_reason"]["identical rows"] == 1 and summary["total"] == 12


def test_roles_may_be_given_and_a_file_without_them_has_identical_rows_only():
    rows = [("x", "y", "1", "2"), ("x", "y", "1", "2")]
    found = find_duplicates(_frame(rows, COLUMNS), COLUMNS, roles=Roles(phone="Телефон"))
    assert found.counts == {"identical rows": 1, "same phone": 0}
    plain = ["a", "b"]
    found = find_duplicates(_frame([("1", "2"), ("1", "3")], plain), plain)
    assert found.counts == {"identical rows": 0} and found.groups == ()
