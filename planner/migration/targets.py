"""Starter templates of the new CRM's fields, the headers old CRMs give them, and a suggested
recipe for a file's columns.

:data:`TEMPLATES` holds the usual fields of a CRM import for contacts, companies and deals:
personal data is marked sensitive, and a field is required where a CRM requires it (a
contact's last name, a company's name, a deal's title; never an e-mail address).
:data:`SOURCES` says, per old CRM (Bitrix24 and amoCRM in Russian and Ukrainian, HubSpot in
English) and entity, which headers hold each field. :func:`suggest` draws a recipe from them
for a file's columns, :func:`detect_source` tells which CRM a file came from, and
:func:`unmapped` lists the columns a recipe leaves unread.

A header matches without regard to case, spaces, punctuation, apostrophes and ё/е ("E-mail",
"email", "Ім’я", "Ім'я"). The pseudo-field :data:`FULL_NAME` names a column with a whole
name ("ФИО"), which :func:`suggest` splits into last, first and middle names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from planner.core.errors import ValidationError
from planner.core.i18n import quoted
from planner.migration import transforms
from planner.migration.fields import (
    CHECKBOX,
    DATE,
    EMAIL,
    NUMBER,
    PHONE,
    PICKLIST,
    TEXT,
    Field,
)
from planner.migration.recipe import Recipe, Rule, make_rule

FULL_NAME = "full_name"  # a column with the whole name, split by suggest()
CURRENCIES = ("RUB", "UAH", "USD", "EUR", "KZT", "BYN")


def _name(name: str, label: str, *, required: bool = False) -> Field:
    return Field(name, label, TEXT, required=required, sensitive=True)


TEMPLATES: dict[str, tuple[Field, ...]] = {
    "contacts": (
        _name("last_name", "Last name", required=True),
        _name("first_name", "First name"),
        _name("middle_name", "Middle name"),
        Field("email", "E-mail", EMAIL, sensitive=True),
        Field("phone", "Phone", PHONE, sensitive=True),
        Field("mobile", "Mobile phone", PHONE, sensitive=True),
        Field("birthday", "Birthday", DATE, sensitive=True),
        Field("company", "Company", sensitive=True),  # a sole trader's is a person's name
        Field("position", "Position"),
        Field("city", "City"),
        Field("address", "Address", sensitive=True),
        Field("source", "Source", PICKLIST),
        Field("status", "Status", PICKLIST),
        Field("owner", "Owner"),
        Field("created", "Created", DATE),
        Field("comment", "Comment", sensitive=True),
        Field("consent", "Consent to mailings", CHECKBOX),
        Field("tags", "Tags"),
        Field("external_id", "ID in the old CRM"),
    ),
    "companies": (
        Field("name", "Name", required=True),
        Field("tax_id", "Tax ID (INN)"),
        Field("phone", "Phone", PHONE, sensitive=True),
        Field("email", "E-mail", EMAIL, sensitive=True),
        Field("website", "Website"),
        Field("city", "City"),
        Field("address", "Address", sensitive=True),
        Field("industry", "Industry", PICKLIST),
        Field("revenue", "Annual revenue", NUMBER, sensitive=True),
        Field("owner", "Owner"),
        Field("created", "Created", DATE),
        Field("comment", "Comment", sensitive=True),
        Field("tags", "Tags"),
        Field("external_id", "ID in the old CRM"),
    ),
    "deals": (
        Field("title", "Title", required=True),
        Field("amount", "Amount", NUMBER, sensitive=True),
        Field("currency", "Currency", PICKLIST, values=CURRENCIES),
        Field("stage", "Stage", PICKLIST),
        Field("close_date", "Close date", DATE),
        Field("created", "Created", DATE),
        Field("company", "Company", sensitive=True),
        _name("contact_name", "Contact"),
        Field("contact_phone", "Contact's phone", PHONE, sensitive=True),
        Field("contact_email", "Contact's e-mail", EMAIL, sensitive=True),
        Field("owner", "Owner"),
        Field("source", "Source", PICKLIST),
        Field("comment", "Comment", sensitive=True),
        Field("tags", "Tags"),
        Field("external_id", "ID in the old CRM"),
    ),
}
# Currency words of old CRMs, for a currency picklist (matched as headers are).
CURRENCY_WORDS = {
    "руб": "RUB", "рубль": "RUB", "рублей": "RUB", "р": "RUB", "₽": "RUB", "rur": "RUB",
    "грн": "UAH", "гривна": "UAH", "гривня": "UAH", "₴": "UAH",
    "$": "USD", "долл": "USD", "доллар": "USD", "€": "EUR", "евро": "EUR", "євро": "EUR",
    "тенге": "KZT", "₸": "KZT",
}  # fmt: skip

_Headers = dict[str, tuple[str, ...]]

# Bitrix24 in Russian and Ukrainian (its contact, company and deal exports).
_BITRIX_CONTACTS: _Headers = {
    FULL_NAME: ("ФИО", "Полное имя", "ПІБ", "Повне ім'я", "Контакт"),
    "last_name": ("Фамилия", "Прізвище"),
    "first_name": ("Имя", "Ім'я"),
    "middle_name": ("Отчество", "Второе имя", "По батькові", "По-батькові"),
    "email": ("E-mail", "Email", "Рабочий e-mail", "Частный e-mail", "E-mail для рассылок",
              "Электронная почта", "Робочий e-mail", "Приватний e-mail", "Електронна пошта"),
    "phone": ("Телефон", "Рабочий телефон", "Домашний телефон", "Робочий телефон",
              "Домашній телефон"),
    "mobile": ("Мобильный телефон", "Мобильный", "Мобільний телефон", "Мобільний"),
    "birthday": ("Дата рождения", "Дата народження"),
    "company": ("Компания", "Название компании", "Компанія", "Назва компанії"),
    "position": ("Должность", "Посада"),
    "city": ("Город", "Місто"),
    "address": ("Адрес", "Адреса", "Улица, дом, квартира", "Вулиця, будинок"),
    "source": ("Источник", "Джерело"),
    "status": ("Статус", "Тип контакта", "Тип контакту"),
    "owner": ("Ответственный", "Відповідальний"),
    "created": ("Дата создания", "Дата створення"),
    "comment": ("Комментарий", "Примечание", "Коментар", "Примітка"),
    "consent": ("Согласие на рассылку", "Согласие на обработку персональных данных",
                "Згода на розсилку", "Згода на обробку персональних даних"),
    "tags": ("Теги", "Метки", "Мітки"),
    "external_id": ("ID",),
}  # fmt: skip
_BITRIX_COMPANIES: _Headers = {
    "name": ("Название компании", "Название", "Компания", "Назва компанії", "Назва", "Компанія"),
    "tax_id": ("ИНН", "ІПН", "ЄДРПОУ", "Код ЄДРПОУ"),
    "phone": ("Телефон", "Рабочий телефон", "Робочий телефон"),
    "email": ("E-mail", "Email", "Рабочий e-mail", "Робочий e-mail", "Електронна пошта"),
    "website": ("Сайт", "Корпоративный сайт", "Веб-сайт", "Корпоративний сайт"),
    "city": ("Город", "Місто"),
    "address": ("Адрес", "Фактический адрес", "Юридический адрес", "Адреса", "Фактична адреса"),
    "industry": ("Сфера деятельности", "Отрасль", "Сфера діяльності", "Галузь"),
    "revenue": ("Годовой оборот", "Річний оборот"),
    "owner": ("Ответственный", "Відповідальний"),
    "created": ("Дата создания", "Дата створення"),
    "comment": ("Комментарий", "Коментар", "Примечание", "Примітка"),
    "tags": ("Теги", "Мітки"),
    "external_id": ("ID",),
}  # fmt: skip
_BITRIX_DEALS: _Headers = {
    "title": ("Название сделки", "Название", "Назва угоди", "Назва"),
    "amount": ("Сумма", "Сумма сделки", "Сума", "Сума угоди"),
    "currency": ("Валюта",),
    "stage": ("Стадия сделки", "Стадия", "Стадія угоди", "Стадія"),
    "close_date": ("Предполагаемая дата закрытия", "Дата закрытия", "Дата закриття",
                   "Передбачувана дата закриття"),
    "created": ("Дата создания", "Дата створення"),
    "company": ("Компания", "Компанія"),
    "contact_name": ("Контакт", "ФИО", "ПІБ"),
    "contact_phone": ("Телефон", "Телефон контакта", "Телефон контакту"),
    "contact_email": ("E-mail", "E-mail контакта", "E-mail контакту"),
    "owner": ("Ответственный", "Відповідальний"),
    "source": ("Источник", "Джерело"),
    "comment": ("Комментарий", "Коментар", "Примітка"),
    "tags": ("Теги", "Мітки"),
    "external_id": ("ID",),
}  # fmt: skip

# amoCRM in Russian and Ukrainian: "(контакт)" and "(компания)" mark the linked record's
# fields in a deals export.
_AMO_CONTACTS: _Headers = {
    FULL_NAME: ("Полное имя контакта", "Полное имя", "Повне ім'я контакту"),
    "last_name": ("Фамилия", "Прізвище"),
    "first_name": ("Имя", "Ім'я"),
    "email": ("Рабочий email", "Личный email", "Другой email", "Email", "Робочий email",
              "Особистий email", "Рабочий email (контакт)"),
    "phone": ("Рабочий телефон", "Рабочий прямой телефон", "Домашний телефон", "Другой телефон",
              "Робочий телефон", "Рабочий телефон (контакт)"),
    "mobile": ("Мобильный телефон", "Мобільний телефон"),
    "company": ("Компания контакта", "Компания", "Компанія контакту", "Компанія"),
    "position": ("Должность", "Должность (контакт)", "Посада"),
    "owner": ("Ответственный", "Відповідальний"),
    "created": ("Дата создания", "Дата создания контакта", "Дата створення"),
    "comment": ("Примечание", "Примітка"),
    "tags": ("Теги", "Теги контакта"),
    "external_id": ("ID", "ID контакта"),
}  # fmt: skip
_AMO_COMPANIES: _Headers = {
    "name": ("Название компании", "Компания", "Назва компанії"),
    "phone": ("Рабочий телефон", "Рабочий телефон (компания)", "Робочий телефон"),
    "email": ("Рабочий email", "Рабочий email (компания)", "Робочий email"),
    "website": ("Web", "Сайт", "Web (компания)"),
    "address": ("Адрес", "Адрес (компания)", "Адреса"),
    "owner": ("Ответственный", "Відповідальний"),
    "created": ("Дата создания", "Дата створення"),
    "comment": ("Примечание", "Примітка"),
    "tags": ("Теги", "Теги компании"),
    "external_id": ("ID", "ID компании"),
}  # fmt: skip
_AMO_DEALS: _Headers = {
    "title": ("Название сделки", "Сделка", "Назва угоди", "Угода"),
    "amount": ("Бюджет", "Бюджет сделки", "Бюджет угоди"),
    "stage": ("Статус сделки", "Этап сделки", "Статус", "Этап", "Статус угоди", "Етап угоди"),
    "close_date": ("Дата закрытия", "Дата закрытия сделки", "Дата закриття"),
    "created": ("Дата создания", "Дата создания сделки", "Дата створення"),
    "company": ("Компания контакта", "Компания", "Компания (компания)", "Компанія"),
    "contact_name": ("Полное имя контакта", "Основной контакт", "Контакт", "Повне ім'я контакту"),
    "contact_phone": ("Рабочий телефон (контакт)", "Мобильный телефон (контакт)",
                      "Телефон контакта", "Робочий телефон (контакт)"),
    "contact_email": ("Рабочий email (контакт)", "Личный email (контакт)", "Email контакта",
                      "Робочий email (контакт)"),
    "owner": ("Ответственный", "Відповідальний"),
    "source": ("Источник сделки", "Источник", "Джерело"),
    "comment": ("Примечание", "Примітка"),
    "tags": ("Теги", "Теги сделки"),
    "external_id": ("ID", "ID сделки"),
}  # fmt: skip

# HubSpot's English exports.
_HUBSPOT_CONTACTS: _Headers = {
    FULL_NAME: ("Full Name", "Name", "Contact Name"),
    "first_name": ("First Name",),
    "last_name": ("Last Name",),
    "email": ("Email", "Email Address", "Work email"),
    "phone": ("Phone Number", "Phone", "Work Phone"),
    "mobile": ("Mobile Phone Number", "Mobile Phone"),
    "birthday": ("Date of birth", "Birthday", "Birthdate"),
    "company": ("Company Name", "Company", "Associated Company"),
    "position": ("Job Title",),
    "city": ("City",),
    "address": ("Street Address", "Address"),
    "source": ("Original Source", "Lead Source", "Original Source Type"),
    "status": ("Lifecycle Stage", "Lead Status"),
    "owner": ("Contact owner", "HubSpot Owner"),
    "created": ("Create Date", "Created Date"),
    "comment": ("Notes", "Message", "Description"),
    "consent": ("Marketing emails opt-in", "Legal basis for processing contact's data"),
    "external_id": ("Record ID", "Contact ID"),
}  # fmt: skip
_HUBSPOT_COMPANIES: _Headers = {
    "name": ("Company name", "Name", "Company"),
    "phone": ("Phone Number", "Phone"),
    "website": ("Website URL", "Company Domain Name", "Website", "Domain"),
    "city": ("City",),
    "address": ("Street Address", "Address"),
    "industry": ("Industry",),
    "revenue": ("Annual Revenue",),
    "owner": ("Company owner", "HubSpot Owner"),
    "created": ("Create Date",),
    "comment": ("Description", "About Us"),
    "external_id": ("Record ID", "Company ID"),
}  # fmt: skip
_HUBSPOT_DEALS: _Headers = {
    "title": ("Deal Name",),
    "amount": ("Amount", "Amount in company currency"),
    "currency": ("Currency", "Deal currency code"),
    "stage": ("Deal Stage",),
    "close_date": ("Close Date",),
    "created": ("Create Date",),
    "company": ("Associated Company", "Company Name"),
    "contact_name": ("Associated Contact", "Contact Name"),
    "contact_email": ("Contact Email", "Associated Contact Email"),
    "owner": ("Deal owner", "HubSpot Owner"),
    "source": ("Original Source Type", "Deal source"),
    "comment": ("Deal Description", "Description"),
    "external_id": ("Record ID", "Deal ID"),
}  # fmt: skip

SOURCES: dict[str, dict[str, _Headers]] = {
    "bitrix24": {
        "contacts": _BITRIX_CONTACTS,
        "companies": _BITRIX_COMPANIES,
        "deals": _BITRIX_DEALS,
    },
    "amocrm": {"contacts": _AMO_CONTACTS, "companies": _AMO_COMPANIES, "deals": _AMO_DEALS},
    "hubspot": {
        "contacts": _HUBSPOT_CONTACTS,
        "companies": _HUBSPOT_COMPANIES,
        "deals": _HUBSPOT_DEALS,
    },
}
# How a whole name is ordered: "ФИО" says it (Фамилия Имя Отчество); amoCRM and HubSpot
# write the first name first.
NAME_ORDER = {"bitrix24": "last first middle", "amocrm": "first middle last"}
NAME_ORDER_DEFAULT = "last first middle"
_ORDERED_HEADERS = {"фио": "last first middle", "піб": "last first middle"}
NAME_PARTS = ("last_name", "first_name", "middle_name")


def header_key(header: str) -> str:
    """``header`` as headers are matched: lower case, ё as е, without apostrophes and
    hyphens, other punctuation as spaces, runs of spaces as one."""
    text = header.casefold().replace("ё", "е")
    text = re.sub(r"['’ʼ`\-]", "", text)
    return " ".join(re.sub(r"[^\w₽₴₸$€]+", " ", text).split())


def _synonyms(entity: str) -> dict[str, set[str]]:
    """Every target field of ``entity`` (and :data:`FULL_NAME`) with the keys of the headers
    that hold it: every source's, the field's name and label."""
    found: dict[str, set[str]] = {}
    for field in TEMPLATES[entity]:
        found[field.name] = {header_key(field.name), header_key(field.label)}
    for entities in SOURCES.values():
        for name, headers in entities.get(entity, {}).items():
            found.setdefault(name, set()).update(header_key(h) for h in headers)
    return found


def _entity(entity: str) -> tuple[Field, ...]:
    if entity not in TEMPLATES:
        raise ValidationError(
            f"Unknown entity {quoted(entity)}: one of {', '.join(TEMPLATES)}.",
            {"entity": [f"One of {', '.join(TEMPLATES)}."]},
        )
    return TEMPLATES[entity]


def detect_source(columns: Sequence[str]) -> str | None:
    """The old CRM whose exports have these headers: the one with most columns among the
    headers no other CRM uses; None when none has any, or two have as many."""
    keys = {
        system: {header_key(h) for table in entities.values() for hs in table.values() for h in hs}
        for system, entities in SOURCES.items()
    }
    scores = {}
    for system, own in keys.items():
        others = set().union(*(k for s, k in keys.items() if s != system))
        scores[system] = sum(1 for c in columns if header_key(c) in own - others)
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best, score = ranked[0]
    if score == 0 or (len(ranked) > 1 and ranked[1][1] == score):
        return None
    return best


def suggest(
    columns: Sequence[str],
    entity: str,
    *,
    region: str = "RU",
    profile: dict[str, Any] | None = None,
) -> Recipe:
    """A recipe for a file with ``columns``: every field of the ``entity``'s template, with a
    rule for each whose header is among the columns (see the module), in the transformation
    of its type. With the file's ``profile`` (``Profile.as_dict()``), dates are read in the
    formats seen and picklists map the values seen. A whole name with no first or last name
    column is split into last, first and middle name. The key is the e-mail address if it is
    mapped, else the phone, else the first required field. No merge is suggested.

    Raises ValidationError for an unknown entity or region."""
    fields = _entity(entity)
    if wrong := transforms.region_error(region):
        raise ValidationError(wrong, {"region": [wrong]})
    region = region.upper()
    synonyms = _synonyms(entity)
    profiled = {c["name"]: c for c in (profile or {}).get("columns", [])}
    used: set[str] = set()
    chosen: dict[str, str] = {}
    for field in fields:
        for column in columns:
            if column not in used and header_key(column) in synonyms.get(field.name, ()):
                chosen[field.name] = column
                used.add(column)
                break
    rules: dict[str, Rule] = {
        name: _rule(next(f for f in fields if f.name == name), column, profiled.get(column))
        for name, column in chosen.items()
    }
    names = {field.name for field in fields}
    if set(NAME_PARTS) <= names and not {"last_name", "first_name"} & chosen.keys():
        whole = next(
            (c for c in columns if c not in used and header_key(c) in synonyms[FULL_NAME]), None
        )
        if whole:
            order = _ORDERED_HEADERS.get(header_key(whole)) or NAME_ORDER.get(
                detect_source(columns) or "", NAME_ORDER_DEFAULT
            )
            for part in NAME_PARTS:
                rules[part] = make_rule(
                    part, [whole], "split_name", part=part.removesuffix("_name"), order=order
                )
    ordered = tuple(rules[field.name] for field in fields if field.name in rules)
    key = next(
        (name for name in ("email", "phone") if name in rules),
        next((f.name for f in fields if f.required), fields[0].name),
    )
    return Recipe(entity, region, key, fields, ordered)


def _rule(field: Field, column: str, profiled: dict[str, Any] | None) -> Rule:
    """The rule that fills ``field`` from ``column`` by its type's transformation."""
    name = transforms.NATURAL[field.type]
    if field.type == DATE:
        return make_rule(field.name, [column], name, formats=_date_formats(profiled))
    if field.type == PICKLIST:
        return make_rule(field.name, [column], name, **_picklist(field, profiled))
    return make_rule(field.name, [column], name)


def _date_formats(profiled: dict[str, Any] | None) -> list[str]:
    """The date formats a column's profile saw, most frequent first. A slashed date's order
    is chosen only when the file shows it (25/12/1980) and never the other way round; an
    ambiguous one decides nothing."""
    seen = (profiled or {}).get("aggregates", {}).get("formats", {})
    found: dict[str, int] = {}
    for label, count in seen.items():
        part = transforms.date_part(label)
        if part in transforms.DATE_FORMATS:
            found[part] = found.get(part, 0) + count
    if all(form in found for form in transforms.SLASHED_FORMATS):
        for form in transforms.SLASHED_FORMATS:
            del found[form]
    return sorted(found, key=lambda label: (-found[label], label))


def _picklist(field: Field, profiled: dict[str, Any] | None) -> dict[str, Any]:
    """The options of a picklist rule: the values the profile saw mapped to themselves (or,
    for a field that lists its values, to the value they name), others kept; for a field
    that lists its values, others refused."""
    top = [entry["value"] for entry in (profiled or {}).get("values", {}).get("top", [])]
    if not field.values:
        return {"map": {value: value for value in top}, "otherwise": "keep"}
    allowed = {header_key(value): value for value in field.values}
    mapping = {}
    for value in top:
        key = header_key(value)
        target = allowed.get(key) or CURRENCY_WORDS.get(key)
        if target in field.values:
            mapping[value] = target
    return {"map": mapping, "otherwise": "reject"}


def unmapped(recipe: Recipe, columns: Sequence[str]) -> list[str]:
    """The ``columns`` no rule of ``recipe`` reads, in their order."""
    read = set(recipe.columns)
    return [column for column in columns if column not in read]
