"""Test files for the data migration, made by the tests themselves: small exports of exactly
known content (Bitrix24, amoCRM, HubSpot, a workbook), one per encoding, the hostile files
people upload by mistake, and a fast generator of large messy exports for the benchmark.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from collections.abc import Sequence
from pathlib import Path

Row = Sequence[str]


def write_csv(
    path: Path,
    rows: Sequence[Row],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\r\n",
    before: str = "",
) -> Path:
    """``rows`` written with the csv module (``before``: lines above the header)."""
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator=newline).writerows(rows)
    path.write_bytes((before + text.getvalue()).encode(encoding))
    return path


# --- Bitrix24: Windows-1251, ";", CRLF, Russian and Ukrainian headers -------------------------

BITRIX_HEADER = (
    "ID",
    "ФИО",
    "Компания",
    "Телефон",
    "E-mail",
    "Дата рождения",
    "Дата создания",
    "Сумма",
    "Статус",
    "Примітка",
    "Місто",
)
BITRIX_ROWS = (
    ("1", "Иванов Пётр Сергеевич", "ООО «Ромашка»", "8 (912) 345-67-89", "ivanov.petr@example.ru",
     "31.12.1980", "05.03.2024 14:22", "1 234,50", "Новый", "Позвонить после обеда", "Москва"),
    ("2", "Петрова Анна", "ООО Ромашка", "+7 912 000-11-22", "anna@example.ru",
     "01.02.1990", "06.03.2024 09:05", "12", "В работе", "Перезвонить\nв понедельник", "Москва"),
    ("3", "Сидоров Иван", "ИП Сидоров", "89120001122", "",
     "15.07.1985", "07.03.2024 10:00", "5,5", "Новый", '=HYPERLINK("http://x.ru")', "Казань"),
    ("4", "Коваленко Олена", "ТОВ Світанок", "+380 44 123 4567", "olena@example.ua",
     "03/04/1979", "07.03.2024 11:30", "7", "Успешно", "", "Київ"),
    ("5", "Шевченко Тарас", "ТОВ Світанок", "8 050 123 45 67", "taras@example.ua",
     "31.02.1990", "08.03.2024 12:00", "100", "Новый", "", "Київ"),
    ("6", "Петрова Анна", "ООО Ромашка", "+79120001122", "ANNA@example.ru",
     "01.02.1990", "09.03.2024 08:15", "12", "В работе", "", "Москва"),
    ("7", "Кузнецов Дмитрий", "", "345-67-89", "kuznetsov@mail",
     "", "10.03.2024 17:45", "", "Провал", "", "Москва"),
    ("8", "Иванов Петр Сергеевич", "ООО Ромашка", "+7 912 345 67 89", "",
     "31.12.1980", "11.03.2024 16:00", "1 234,50", "Новый", "", "Москва"),
    ("9", "Морозова Ольга", "ООО Вектор", "8-916-111-22-33", "olga@vector.ru",
     "1985-07-15", "12.03.2024 10:10", "1 500 000", "Успешно", "", "Санкт-Петербург"),
    ("9", "Морозова Ольга", "ООО Вектор", "8-916-111-22-33", "olga@vector.ru",
     "1985-07-15", "12.03.2024 10:10", "1 500 000", "Успешно", "", "Санкт-Петербург"),
)  # fmt: skip


def bitrix24(folder: Path, name: str = "bitrix24-contacts.csv") -> Path:
    """A Bitrix24 contacts export: Windows-1251, ";", CRLF; a formula cell (row 3), a line
    break inside a value (row 2), dates in three formats with one ambiguous (row 4) and one
    impossible (row 5), phones in six formats, duplicates of every reason."""
    rows = [BITRIX_HEADER, *BITRIX_ROWS]
    return write_csv(folder / name, rows, encoding="cp1251", delimiter=";")


# --- amoCRM: UTF-8 with a byte order mark, ",", deals with their contact -----------------------

AMO_HEADER = (
    "ID",
    "Название сделки",
    "Бюджет",
    "Ответственный",
    "Дата создания",
    "Полное имя контакта",
    "Компания контакта",
    "Рабочий телефон (контакт)",
    "Рабочий email (контакт)",
    "Теги",
)
AMO_ROWS = (
    ("101", "Поставка оборудования", "150000", "Ольга Смирнова", "05.03.2024 14:22:10",
     "Иван Петров", "ООО Техника", "+7 (495) 123-45-67", "i.petrov@tehnika.ru", "опт, vip"),
    ("102", "Сервисный договор", "45000", "Ольга Смирнова", "06.03.2024 09:00:00",
     "Петров Иван", "ООО «Техника»", "84951234567", "I.Petrov@Tehnika.ru", "сервис"),
    ("103", "Лицензии", "12000,50", "Игорь Ким", "07.03.2024 18:30:45",
     "Анна Лебедева", "АО Север", "+7 (000) 000-00-00", "anna@sever.ru, a.lebedeva@sever.ru", ""),
    ("104", "Внедрение", "", "Игорь Ким", "07.03.2024 19:00:00",
     "Мария Кузнецова", "", "+7 916 555-44-33", "нет", "vip"),
    ("105", "Интеграция", "80000", "Игорь Ким", "08.03.2024 10:00:00",
     "Иван Петров", "ООО Техника", "+7 495 123 45 67", "ivan.petrov@tehnika.ru", ""),
)  # fmt: skip


def amocrm(folder: Path, name: str = "amocrm-leads.csv") -> Path:
    """An amoCRM deals export: UTF-8 with a byte order mark, ",", timestamps with seconds."""
    rows = [AMO_HEADER, *AMO_ROWS]
    return write_csv(folder / name, rows, encoding="utf-8-sig", delimiter=",")


# --- HubSpot: UTF-8, ",", LF, English headers, German and Romanian customers -------------------

HUBSPOT_HEADER = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Create Date",
    "Annual Revenue",
    "Marketing contact status",
)
HUBSPOT_ROWS = (
    ("5001", "Jürgen", "Müller", "j.mueller@beispiel.de", "+49 30 12345678", "Bäckerei Größe GmbH",
     "2024-03-05 14:22", "1,250,000.00", "true"),
    ("5002", "Ștefan", "Popescu", "stefan@exemplu.ro", "+40 21 123 4567", "Întreprinderea Mică SRL",
     "2024-03-06 09:05", "98,500.50", "false"),
    ("5003", "Ana", "Ionescu", "ana@exemplu.ro", "0049 89 1234567", "Întreprinderea Mică SRL",
     "2024-03-07 11:00", "", "true"),
    ("5004", "Jürgen", "Müler", "J.Mueller@beispiel.de", "030 12345678", "Bäckerei Größe",
     "2024-03-08 16:45", "1250000", "true"),
)  # fmt: skip


def hubspot(folder: Path, name: str = "hubspot-contacts.csv") -> Path:
    """A HubSpot contacts export: UTF-8 without a byte order mark, ",", LF line ends."""
    rows = [HUBSPOT_HEADER, *HUBSPOT_ROWS]
    return write_csv(folder / name, rows, delimiter=",", newline="\n")


# --- a workbook ----------------------------------------------------------------------------


def workbook(folder: Path, name: str = "contacts.xlsx") -> Path:
    """An XLSX export with a title row above the header, real dates and numbers, a cell with
    a line break, a blank row, and text that starts a formula."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Выгрузка контактов от 12.03.2024"])
    sheet.append(["ФИО", "Телефон", "Дата рождения", "Сумма", "Комментарий"])
    sheet.append(
        ["Иванов Иван", "+7 912 345-67-89", dt.date(1980, 12, 31), 1234.5, "Звонить\nутром"]
    )
    sheet.append(["Петрова Анна", "89120001122", dt.date(1990, 2, 1), 12, None])
    sheet.append([None, None, None, None, None])
    sheet.append(["Сидоров Иван", "+79120001122", dt.datetime(1985, 7, 15, 9, 30), 7, "'=1+2"])
    path = folder / name
    book.save(path)
    return path


# --- one file per encoding ------------------------------------------------------------------

CYRILLIC = (
    ("ФИО", "Город", "Комментарий"),
    *[(f"Иванов Иван {i}", "Москва", "Позвонить после обеда, уточнить объём заказа")
      for i in range(20)],
    ("Шевченко Тарас", "Київ", "Їжачок, ґанок і є"),
)  # fmt: skip
RUSSIAN = CYRILLIC[:-1]  # KOI8-R has no Ukrainian letters
GERMAN = (
    ("Name", "Stadt", "Bemerkung"),
    *[(f"Jürgen Müller {i}", "Köln", "Rückruf erwünscht, Größe prüfen") for i in range(20)],
)
ROMANIAN = (
    ("Nume", "Oraş", "Observaţii"),
    *[(f"Ştefan Popescu {i}", "Iaşi", "Să sunaţi mâine după prânz, în ţară") for i in range(20)],
)


def encoded(folder: Path, encoding: str, rows: Sequence[Row], name: str = "export.csv") -> Path:
    """``rows`` as ";"-separated CSV in ``encoding`` (a Python codec)."""
    return write_csv(folder / name, rows, encoding=encoding, delimiter=";")


# --- hostile files --------------------------------------------------------------------------


def hostile(folder: Path, kind: str) -> Path:
    """A file that is no table, named as one: "pdf", "png", "xls" (an old workbook),
    "html" (a web page saved as .csv), "empty", "blank" (only line breaks), "header"
    (a header without rows), "binary" (random bytes), "nul" (a NUL inside the text)."""
    made = {
        "pdf": ("report.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
        "png": ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)),
        "xls": ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)),
        "html": (
            "export.csv",
            "<!DOCTYPE html>\n<html><body><table><tr><td>ФИО</td></tr></table></body></html>\n"
            .encode(),
        ),
        "empty": ("empty.csv", b""),
        "blank": ("blank.csv", b"\r\n\r\n\r\n"),
        "header": ("header-only.csv", "ФИО;Телефон;E-mail\r\n".encode("cp1251")),
        "binary": ("data.csv", random.Random(7).randbytes(4096)),
        "nul": ("nul.csv", b"a;b\r\n1;2\r\n3;\x004\r\n"),
    }  # fmt: skip
    name, data = made[kind]
    path = folder / name
    path.write_bytes(data)
    return path


def zip_bomb(folder: Path, name: str = "bomb.xlsx", unpacked: int = 64 * 1024 * 1024) -> Path:
    """A "workbook" whose worksheet unpacks to ``unpacked`` bytes of zeros: more than 200 to 1,
    written in pieces so that the test never holds it."""
    path = folder / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        with bomb.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            piece = bytes(1024 * 1024)
            for _ in range(unpacked // len(piece)):
                part.write(piece)
    return path


def ragged(folder: Path, *, newline: str = "\r\n", long: bool = False) -> Path:
    """Semicolon CSV whose rows 3 and 5 have fewer fields than the header, row 4 a line
    break inside a value, a blank line as row 6; with ``long``, row 7 has one field too many."""
    lines = [
        "ФИО;Телефон;Город",
        "Иванов Иван;+79123456789;Москва",
        "Петрова Анна;+79120001122;Москва",
        "Сидоров Иван;89120001122",
        'Коваленко Олена;"+380 44\n123 4567";Київ',
        "Шевченко Тарас",
        "",
        "Морозова Ольга;+79161112233;Москва" + (";лишнее" if long else ""),
        "Кузнецов Дмитрий;;Казань",
    ]
    path = folder / ("long.csv" if long else "ragged.csv")
    path.write_bytes((newline.join(lines) + newline).encode("cp1251"))
    return path


# --- large messy exports, fast, for the benchmark -------------------------------------------

SURNAME_ROOTS = (
    "Иван", "Смирн", "Кузнец", "Поп", "Васил", "Петр", "Сокол", "Михайл", "Новик", "Федор",
    "Мороз", "Волк", "Алексе", "Лебед", "Семен", "Егор", "Павл", "Козл", "Степан", "Никола",
    "Орл", "Андре", "Макар", "Никит", "Захар", "Зайц", "Соловь", "Борис", "Яковл", "Григор",
    "Роман", "Вороб", "Шевч", "Ковал", "Бондар", "Ткач", "Кравч", "Олейн", "Мельн", "Полищ",
    "Лис", "Руд", "Гончар", "Кузьм", "Белоус", "Чернов", "Сидор", "Гаврил", "Тарас", "Осип",
)  # fmt: skip
SURNAMES = tuple(
    root + ending for root in SURNAME_ROOTS for ending in ("ов", "ин", "енко", "ук", "ский")
)
FIRST_NAMES = (
    "Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Иван", "Михаил",
    "Евгений", "Николай", "Владимир", "Артём", "Павел", "Олег", "Тарас", "Богдан", "Юрій",
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Юлия",
    "Екатерина", "Олена", "Оксана", "Ганна", "Людмила", "Вікторія",
)  # fmt: skip
PATRONYMICS = (
    "Сергеевич", "Александрович", "Иванович", "Петрович", "Викторович", "Андреевич",
    "Николаевич", "Олегович", "Сергеевна", "Александровна", "Ивановна", "Петровна",
    "Викторовна", "Андреевна", "Николаевна", "Олеговна",
)  # fmt: skip
WORDS = (
    "Ромашка", "Вектор", "Альфа", "Гранит", "Восток", "Запад", "Север", "Юг", "Техника",
    "Снаб", "Строй", "Торг", "Сервис", "Логистик", "Медиа", "Софт", "Агро", "Энерго", "Транс",
    "Пром", "Хим", "Фарм", "Мебель", "Текстиль", "Металл", "Дом", "Сад", "Мир", "Свет",
    "Поток",
)  # fmt: skip
FORMS = ("ООО", "ООО", "ООО", "АО", "ИП", "ТОВ", "ПАО")
CITIES = (
    "Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург", "Самара", "Київ",
    "Харків", "Одеса", "Львів", "Дніпро", "Минск", "Алматы", "Ростов-на-Дону", "Краснодар",
    "Воронеж",
)  # fmt: skip
LOGINS = (
    "ivan", "petr", "anna", "olga", "sergey", "maria", "dmitry", "elena", "alex", "natalia",
    "info", "sales", "office", "manager", "taras", "olena", "bohdan", "yulia", "kate", "max",
    "pavel", "oleg", "irina", "svetlana",
)  # fmt: skip
DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "ukr.net", "bk.ru", "list.ru", "inbox.ru")
STATUSES = ("Новый", "В работе", "Ждёт ответа", "Успешно", "Провал", "Отложен")
SOURCES = ("Сайт", "Звонок", "Выставка", "Рекомендация", "Реклама", "E-mail рассылка")
POSTS = ("Директор", "Менеджер", "Бухгалтер", "Инженер", "Главный инженер", "Снабженец", "")
PHRASES = (
    "Позвонить после обеда",
    "Просил перезвонить в понедельник",
    "Интересует оптовая поставка",
    "Отправить КП на почту",
    "Клиент недоволен сроками",
    "Повторный заказ",
)
EXPORT_HEADER = (
    "ID", "ФИО", "Компания", "Должность", "Телефон", "Мобильный телефон", "E-mail",
    "Дата создания", "Дата рождения", "Сумма сделки", "Статус", "Источник", "Місто", "Адрес",
    "Комментарий", "Ответственный", "Согласие на рассылку", "ИНН", "Сайт", "Теги",
)  # fmt: skip


def _phone(rnd: random.Random) -> str:
    code, a, b, c = (
        rnd.randrange(900, 1000),
        rnd.randrange(1000),
        rnd.randrange(100),
        rnd.randrange(100),
    )
    shape = rnd.random()
    if shape < 0.35:
        return f"8 ({code}) {a:03}-{b:02}-{c:02}"
    if shape < 0.55:
        return f"+7 {code} {a:03} {b:02} {c:02}"
    if shape < 0.7:
        return f"8{code}{a:03}{b:02}{c:02}"
    if shape < 0.8:
        return f"+7{code}{a:03}{b:02}{c:02}"
    if shape < 0.88:
        return f"+380 {rnd.choice((50, 67, 93, 44))} {a:03} {b:02} {c:02}"
    if shape < 0.92:
        return f"8 0{rnd.choice((50, 67, 93))} {a:03} {b:02} {c:02}"
    if shape < 0.96:
        return f"{a:03}-{b:02}-{c:02}"
    return rnd.choice(("нет", "-", "уточнить"))


def _row(rnd: random.Random, number: int, companies: list[str], weights: list[float]) -> list[str]:
    surname = rnd.choice(SURNAMES)
    name = f"{surname} {rnd.choice(FIRST_NAMES)} {rnd.choice(PATRONYMICS)}"
    company = rnd.choices(companies, cum_weights=weights)[0] if rnd.random() < 0.75 else ""
    login = rnd.choice(LOGINS)
    shape = rnd.random()
    email = (
        ""
        if shape < 0.1
        else f"{login}@{rnd.choice(DOMAINS)[:-3]}"
        if shape < 0.12
        else f"{login}.{rnd.randrange(10**6)}@{rnd.choice(DOMAINS)}"
    )
    created = dt.datetime(2015, 1, 1) + dt.timedelta(seconds=rnd.randrange(300_000_000))
    year, month, day = rnd.randrange(1950, 2005), rnd.randrange(1, 13), rnd.randrange(1, 29)
    shape = rnd.random()
    birthday = (
        ""
        if shape < 0.3
        else f"{year}-{month:02}-{day:02}"
        if shape < 0.35
        else f"{day:02}/{month:02}/{year}"
        if shape < 0.37
        else f"31.02.{year}"
        if shape < 0.375
        else f"{day:02}.{month:02}.{year}"
    )
    rubles, kopecks = rnd.randrange(100, 5_000_000), rnd.randrange(100)
    shape = rnd.random()
    amount = (
        ""
        if shape < 0.05
        else f"{rubles:,}".replace(",", " ") + f",{kopecks:02}"
        if shape < 0.15
        else str(rubles)
        if shape < 0.3
        else f"{rubles},{kopecks:02}"
    )
    shape = rnd.random()
    comment = (
        ""
        if shape < 0.6
        else f"{rnd.choice(PHRASES)}\n{rnd.choice(PHRASES)}"
        if shape < 0.65
        else '=HYPERLINK("http://crm.example/deal")'
        if shape < 0.651
        else f"{rnd.choice(PHRASES)} ({rnd.randrange(1000)})"
    )
    return [
        str(number),
        name,
        company,
        rnd.choice(POSTS),
        _phone(rnd),
        _phone(rnd) if rnd.random() < 0.2 else "",
        email,
        created.strftime("%d.%m.%Y %H:%M:%S"),
        birthday,
        amount,
        rnd.choice(STATUSES),
        rnd.choice(SOURCES),
        rnd.choice(CITIES),
        f"ул. {rnd.choice(WORDS)}ная, д. {rnd.randrange(1, 200)}, кв. {rnd.randrange(1, 300)}",
        comment,
        f"{rnd.choice(FIRST_NAMES)} {rnd.choice(SURNAMES)}",
        rnd.choice(("Да", "Нет", "Да", "")),
        f"{rnd.randrange(10**9, 10**10):010}" if rnd.random() < 0.9 else f"0{rnd.randrange(10**9)}",
        f"https://{rnd.choice(WORDS).lower()}.ru" if rnd.random() < 0.3 else "",
        ", ".join(rnd.sample(("vip", "опт", "розница", "дилер", "новый"), rnd.randrange(3))),
    ]


def write_export(
    path: Path, rows: int, *, seed: int = 0, encoding: str = "cp1251", delimiter: str = ";"
) -> Path:
    """A Bitrix24-like export of ``rows`` contacts and 20 columns (:data:`EXPORT_HEADER`),
    messy as real ones are: phones in eight formats, e-mails some invalid and some repeated,
    dates in three formats with ambiguous and impossible ones, amounts with decimal commas
    and thousands separators, comments with line breaks and formulas, companies of very
    unequal size, and about 2% of contacts entered again (with a different id). Written
    with the csv module 10,000 rows at a time."""
    rnd = random.Random(seed)
    companies = [
        f"{rnd.choice(FORMS)} «{rnd.choice(WORDS)}{rnd.choice(WORDS).lower()} {i}»"
        for i in range(max(10, rows // 8))
    ]
    weights, total = [], 0.0
    for rank in range(len(companies)):
        total += 1 / (rank + 1)
        weights.append(total)
    recent: list[list[str]] = []
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(EXPORT_HEADER)
        for start in range(1, rows + 1, 10_000):
            batch = []
            for number in range(start, min(rows, start + 9_999) + 1):
                if recent and rnd.random() < 0.02:  # entered again, a little differently
                    again = list(rnd.choice(recent))
                    again[0] = str(number)
                    if rnd.random() < 0.3:
                        again[1] = " ".join(again[1].split()[1::-1])  # "Имя Фамилия"
                    if rnd.random() < 0.3:
                        again[4] = "".join(ch for ch in again[4] if ch.isdigit())
                    if rnd.random() < 0.3:
                        again[6] = again[6].upper()
                    batch.append(again)
                    continue
                row = _row(rnd, number, companies, weights)
                batch.append(row)
                if rnd.random() < 0.01:
                    recent = [*recent[-999:], row]
            writer.writerows(batch)
    return path


def returned_by_crm(pilot, recipe, *, drop_first: bool) -> bytes:
    """What the new CRM exports after importing the pilot (API JSON of both): every record as
    sent, under the recipe's field names, the first one left out with ``drop_first``."""
    fields = [f["name"] for f in recipe["document"]["fields"]]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(fields)
    for record in pilot["records"][1 if drop_first else 0 :]:
        writer.writerow([record.get(f) or "" for f in fields])
    return out.getvalue().encode("cp1251", errors="replace")
