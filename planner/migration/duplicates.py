"""Duplicates in an old CRM's export: identical rows, and the same customer entered twice.

Four reasons, each found by polars over the whole file with a cost near-linear in its rows.
Memory holds the keys' 64-bit hashes (sorted, not in a hash table) until the repeating ones
are known; only their rows are then grouped by the key itself.

- **identical rows**: every cell equal (the row's hash, :data:`reading.HASH`);
- **same e-mail**: the first address of the cell, trimmed and lower-cased;
- **same phone**: the number in international form, by the rules of
  :func:`planner.migration.formats.phone_shapes` (8 912 … and +7 912 … are one number); only
  numbers whose last nine digits occur twice are put in that form (blocking);
- **similar name in the same company**: names compared within a company (legal form, quotes
  and case left out) of two rows or more. The words of a name are sorted ("Иванов Иван" is
  "иван иванов"), the names of a company sorted, and each compared with the next
  :data:`WINDOW` (sorted neighbourhood: the cost follows the names, not their pairs; names
  that differ in their first letters are not compared). Names at least :data:`SIMILARITY`
  alike (rapidfuzz's ratio) are one customer; a group is the chain of them, and the same
  name twice in a company is a group too. Companies are taken :data:`SLICE_ROWS` rows at a
  time.

Which columns hold the name, company, e-mail and phone is guessed from their headers (Russian,
Ukrainian, English, German, Romanian), or given. Groups are listed up to a cap, first rows
first, each with its reason and its rows (1-based data rows); all are counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from rapidfuzz import fuzz, process

from planner.migration.formats import phone_shapes, whole
from planner.migration.reading import HASH, ROW

REASONS = ("identical rows", "same e-mail", "same phone", "similar name in the same company")
MAX_GROUPS = 100  # groups listed; all are counted
MAX_ROWS = 50  # row numbers listed in one group
SIMILARITY = 90  # rapidfuzz ratio, 0-100, of two names' sorted words
# Each name is compared with the next WINDOW names of its company in sorted order (sorted
# neighbourhood): the cost grows with the names, not with their pairs.
WINDOW = 2
BATCH = 20_000  # pairs of names scored at a time
SLICE_ROWS = 50_000  # rows of companies whose names are compared at a time, about
LEGAL_FORMS = (
    "ооо|оао|зао|пао|ао|ип|нко|тов|пп|фоп|прат|пат|llc|ltd|inc|corp|co|gmbh|ag|kg|srl|sa|sc"
)


@dataclass(frozen=True)
class Roles:
    """The columns that say who a customer is: ``name`` (one column, or last, first and
    middle name in that order), ``company``, ``email``, ``phone``; None when there is none."""

    name: tuple[str, ...] = ()
    company: str | None = None
    email: str | None = None
    phone: str | None = None


def _words(header: str) -> list[str]:
    text = header.lower().replace("ё", "е").replace("e-mail", "email")
    return re.sub(r"[^\w\s]|[\d_]", " ", re.sub(r"['’ʼ`]", "", text)).split()


# Headers by the start of one of their words...
STEMS = {
    "email": ("email", "почт", "пошт"),
    "phone": ("телефон", "phone", "mobile", "мобил", "мобіл"),
    "company": ("компан", "организац", "організац", "company", "фирм", "firm"),
}
WORDS = {"mail": "email", "тел": "phone", "tel": "phone"}
# ...or by all their words.
NAMES = {
    "name": ("фио", "піб", "полное имя", "имя контакта", "полное имя контакта", "контакт",
             "контактное лицо", "повне імя", "контактна особа", "full name", "name", "contact",
             "contact name", "nume complet"),
    "last_name": ("фамилия", "прізвище", "last name", "lastname", "surname", "family name",
                  "nachname", "nume"),
    "first_name": ("имя", "імя", "first name", "firstname", "given name", "vorname", "prenume"),
    "middle_name": ("отчество", "по батькові", "middle name"),
}  # fmt: skip


def header_role(header: str) -> str | None:
    """What a header names: "email", "phone", "company", "name" (a full name),
    "last_name", "first_name", "middle_name", or None. "Рабочий телефон", "Phone Number",
    "Компанія", "Company Name", "E-mail", "ФИО", "Ім'я", "First Name" are recognised."""
    words = _words(header)
    for role, stems in STEMS.items():
        if any(word.startswith(stems) or WORDS.get(word) == role for word in words):
            return role
    text = " ".join(words)
    return next((role for role, texts in NAMES.items() if text in texts), None)


def guess_roles(columns: Sequence[str]) -> Roles:
    """The first column of each role among ``columns`` (see :func:`header_role`)."""
    found: dict[str, str] = {}
    for column in columns:
        role = header_role(column)
        if role and role not in found:
            found[role] = column
    name = (found["name"],) if "name" in found else ()
    if not name:
        parts = ("last_name", "first_name", "middle_name")
        name = tuple(found[part] for part in parts if part in found)
    return Roles(name, found.get("company"), found.get("email"), found.get("phone"))


@dataclass(frozen=True)
class Group:
    """Rows that are likely one customer: its ``reason``, its first :data:`MAX_ROWS` row
    numbers, its ``size`` in rows, what the rows share (``shared``: the normalised e-mail or
    phone, or the names; a value of the file) and other reasons the same rows were found by."""

    reason: str
    rows: tuple[int, ...]
    size: int
    shared: tuple[str, ...] = ()
    also: tuple[str, ...] = ()

    def as_dict(self, *, values: bool = True) -> dict[str, Any]:
        """JSON-able: ``values`` holds what the rows share (left out with ``values=False``)."""
        found: dict[str, Any] = {"reason": self.reason, "rows": list(self.rows)}
        found |= {"size": self.size, "also": list(self.also)}
        if values:
            found["values"] = {"shared": list(self.shared)}
        return found


@dataclass(frozen=True)
class Duplicates:
    """Every group found, counted by reason in ``counts``; the first ``groups`` of them listed
    (one entry for rows found by several reasons)."""

    roles: Roles
    counts: dict[str, int]
    groups: tuple[Group, ...]

    def as_dict(self, *, values: bool = True) -> dict[str, Any]:
        """JSON-able; with ``values=False`` without the values the groups share."""
        roles = self.roles
        return {
            "columns": {
                "name": list(roles.name),
                "company": roles.company,
                "email": roles.email,
                "phone": roles.phone,
            },
            "total": sum(self.counts.values()),
            "by_reason": dict(self.counts),
            "listed": len(self.groups),
            "groups": [group.as_dict(values=values) for group in self.groups],
        }


_FILL = [" ", "(", ")", "-", ".", "+", "\u00a0"]
Listed = tuple[tuple[int, ...], int, tuple[str, ...]]  # rows (the first ones), size, shared


def find_duplicates(
    frame: pl.LazyFrame,
    columns: Sequence[str],
    *,
    roles: Roles | None = None,
    region: str = "RU",
    max_groups: int = MAX_GROUPS,
) -> Duplicates:
    """The duplicate groups of ``frame`` (text ``columns``, :data:`ROW` and :data:`HASH`, as
    :class:`planner.migration.reading.Table` has them). ``roles`` default to
    :func:`guess_roles`; phone numbers are read for ``region``. A file without names,
    e-mails or phones simply has no group for those reasons."""
    roles = roles or guess_roles(columns)
    rows = pl.col(HASH) if HASH in frame.collect_schema() else pl.struct(list(columns)).hash()
    found: dict[str, tuple[int, list[Listed]]] = {
        REASONS[0]: _keyed(frame, rows, max_groups),
    }
    if roles.email:
        emails = _emails(frame, roles.email)
        found[REASONS[1]] = _keyed(emails, pl.col("key"), max_groups, shared=True)
    if roles.phone:
        numbers = _phone_keys(frame, roles.phone, region)
        found[REASONS[2]] = _keyed(numbers, pl.col("key"), max_groups, shared=True)
    if roles.name and roles.company:
        found[REASONS[3]] = _similar_names(frame, roles, max_groups)
    listed: dict[tuple[tuple[int, ...], int], Group] = {}
    for reason, (_count, groups) in found.items():
        for first_rows, size, shared in groups:
            same = listed.get((first_rows, size))
            if same:
                also = (*same.also, reason)
                listed[(first_rows, size)] = Group(same.reason, same.rows, size, same.shared, also)
            else:
                listed[(first_rows, size)] = Group(reason, first_rows, size, shared)
    ordered = sorted(listed.values(), key=lambda group: (group.rows, REASONS.index(group.reason)))
    counts = {reason: count for reason, (count, _groups) in found.items()}
    return Duplicates(roles, counts, tuple(ordered[:max_groups]))


def repeated(values: pl.Series) -> pl.Series:
    """The values that occur more than once, found by sorting: a sorted array of 64-bit
    hashes takes 8 bytes a value, where polars' hash table for ``is_duplicated`` takes ten
    times that."""
    ordered = values.drop_nulls().sort()
    return ordered.filter(ordered == ordered.shift(1)).unique()


def _keyed(
    frame: pl.LazyFrame, key: pl.Expr, limit: int, *, shared: bool = False
) -> tuple[int, list[Listed]]:
    """How many groups of rows share a non-null ``key``, and the first ``limit`` of them (by
    their first row), with the key when it is ``shared`` (a value of the file). First only
    the keys' 64-bit hashes are held, then the rows whose hash repeats are grouped by the key
    itself."""
    hashed = (
        frame.select(ROW, key.alias("key"))
        .filter(pl.col("key").is_not_null())
        .select(ROW, pl.col("key").hash(seed=1).alias("hash"))
        .collect(engine="streaming")
    )
    again = hashed.filter(pl.col("hash").is_in(repeated(hashed["hash"]).implode()))[ROW]
    del hashed
    groups = (
        frame.filter(pl.col(ROW).is_in(again.implode()))
        .select(ROW, key.alias("key"))
        .group_by("key")
        .agg(
            pl.col(ROW).min().alias("first"),
            pl.len().alias("size"),
            pl.col(ROW).sort().head(MAX_ROWS).alias("rows"),
        )
        .filter(pl.col("size") > 1)
        .collect(engine="streaming")
    )
    first = groups.sort("first").head(limit)
    return groups.height, [
        (tuple(rows), size, (str(k),) if shared else ()) for k, _, size, rows in first.iter_rows()
    ]


def _emails(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """:data:`ROW` and the cell's first e-mail address, lower-cased (null without one). A list
    of addresses ("a@x.ru, b@y.ru") is rare: only its cells go through the regex."""
    text = pl.col(column).str.strip_chars().str.to_lowercase().alias("key")
    keyed = frame.select(ROW, text).filter(pl.col("key").str.contains("@", literal=True))
    several = pl.col("key").str.contains_any([",", ";", " "])
    first = pl.col("key").str.extract(r"([^\s,;<>]+@[^\s,;<>]+)", 1)
    return pl.concat([keyed.filter(~several), keyed.filter(several).with_columns(first)])


def _phone_keys(frame: pl.LazyFrame, column: str, region: str) -> pl.LazyFrame:
    """:data:`ROW` and the number in international form ("+79123456789") of the cells whose
    last nine digits occur more than once (blocking); the others cannot be duplicates."""
    text = pl.col(column).str.strip_chars()
    digits = text.str.replace_many(_FILL, [""] * len(_FILL))  # letters stay: no phone then
    tails = (
        frame.select(ROW, digits.alias("digits"))
        .filter(pl.col("digits").str.len_bytes() >= 7)
        .select(ROW, pl.col("digits").str.slice(-9).hash(seed=3).alias("tail"))
        .collect(engine="streaming")
    )
    again = tails.filter(pl.col("tail").is_in(repeated(tails["tail"]).implode()))[ROW]
    candidates = (
        frame.filter(pl.col(ROW).is_in(again.implode()))
        .select(ROW, text.alias("text"), digits.alias("digits"))
        .collect(engine="streaming")
    )
    key: Any = pl
    for shape in phone_shapes(region):
        if shape.prefix is not None:
            key = key.when(pl.col("text").str.contains(whole(shape.pattern))).then(
                pl.lit(shape.prefix) + pl.col("digits").str.slice(shape.drop)
            )
    return candidates.lazy().select(ROW, key.otherwise(None).alias("key"))


_LAST = "\uffff"  # sorts after every word: stands for a missing one


def _with_name_key(frame: pl.LazyFrame, roles: Roles) -> pl.LazyFrame:
    """``frame`` with "name": the first three words of the name sorted, lower-cased, "ё" as
    "е", without punctuation ("Иванов Иван Петрович" and "Иван Иванов Петрович" are both
    "иван иванов петрович"); further words follow unsorted. Step by step, so that polars
    computes each part once."""
    name = pl.concat_str([pl.col(c) for c in roles.name], separator=" ", ignore_nulls=True)
    text = name.str.to_lowercase().str.replace_all("ё", "е", literal=True)
    text = text.str.replace_many([".", ",", "-", "'", '"', "  "], [" "] * 6).str.strip_chars()
    words = [pl.col("words").struct.field(f"field_{i}") for i in range(4)]
    a, b, c, d = (pl.col(x) for x in "abcd")
    return (
        frame.with_columns(words=text.str.splitn(" ", 4))
        .with_columns(*(w.fill_null(_LAST).alias(x) for w, x in zip(words, "abc", strict=False)))
        .with_columns(a=pl.min_horizontal(a, b), b=pl.max_horizontal(a, b))  # sorting three
        .with_columns(b=pl.min_horizontal(b, c), c=pl.max_horizontal(b, c))
        .with_columns(a=pl.min_horizontal(a, b), b=pl.max_horizontal(a, b), d=words[3])
        .with_columns(
            name=pl.concat_str(
                [*(pl.when(x != _LAST).then(x) for x in (a, b, c)), d],
                separator=" ",
                ignore_nulls=True,
            )
        )
        .drop("words", "a", "b", "c", "d")
    )


def _company_key(column: str) -> pl.Expr:
    """A company without case, legal form ("ООО", "LLC") or punctuation."""
    return (
        pl.col(column)
        .str.to_lowercase()
        .str.replace_all(rf"\b(?:{LEGAL_FORMS})\b", " ")
        .str.replace_all(r"[^\w]+", " ")
        .str.strip_chars()
    )


def _similar_names(frame: pl.LazyFrame, roles: Roles, limit: int) -> tuple[int, list[Listed]]:
    """Groups of rows of one company whose names are alike (see the module). Only companies
    of two rows or more are looked at: their rows' normalised names are read in one pass,
    then compared :data:`SLICE_ROWS` rows at a time (companies split by hash), so that
    memory stays bounded."""
    company = roles.company or ""
    companies = (
        frame.group_by(company)
        .agg(pl.len().alias("n"))
        .filter(pl.col(company).is_not_null())
        .collect(engine="streaming")
        .with_columns(_company_key(company).alias("company"))
        .filter((pl.col("company") != "") & (pl.col("n").sum().over("company") > 1))
        .select(company, pl.col("company").hash(seed=0))
    )
    joined = frame.join(companies.lazy(), on=company)
    everyone = (
        _with_name_key(joined.select(ROW, "company", *roles.name), roles)
        .filter(pl.col("name") != "")
        .select(ROW, "company", "name")
        .collect(engine="streaming")
    )
    slices = max(1, -(-everyone.height // SLICE_ROWS))
    part = pl.col("company") % slices
    count, listed = 0, []
    for index in range(slices):
        found, first = _similar_in(everyone.filter(part == index), limit)
        count, listed = count + found, listed + first
    return count, sorted(listed)[:limit]


def _similar_in(keyed: pl.DataFrame, limit: int) -> tuple[int, list[Listed]]:
    """:func:`_similar_names` for the rows of some companies: :data:`ROW`, "company" (a
    hash of its normalised name) and "name" (normalised)."""
    keyed = keyed.with_columns(pair=pl.struct("company", "name").hash(seed=0))
    names = (
        keyed.unique("pair")
        .select("pair", "name", "company", pl.col("name").str.len_chars().alias("length"))
        .sort("company", "name")
        .with_row_index("i")
    )
    keyed = keyed.select(ROW, "pair")
    near = [
        names.select(
            "i",
            "length",
            pl.col("i").shift(-step).alias("i_b"),
            pl.col("length").shift(-step).alias("length_b"),
            (pl.col("company") == pl.col("company").shift(-step)).alias("same"),
        ).filter("same")
        for step in range(1, WINDOW + 1)
    ]
    lengths = pl.col("length").cast(pl.Int64), pl.col("length_b").cast(pl.Int64)
    pairs = pl.concat(near).filter(  # a ratio of 90 needs lengths within a tenth
        (lengths[0] - lengths[1]).abs() * 10 <= lengths[0] + lengths[1]
    )
    alike: list[tuple[int, int]] = []
    text = names["name"].to_list()  # each name once; a pair refers to two of them
    for start in range(0, pairs.height, BATCH):  # in batches: the lists of pairs are large
        batch = pairs.slice(start, BATCH)
        scores = process.cpdist(
            list(map(text.__getitem__, batch["i"].to_list())),
            list(map(text.__getitem__, batch["i_b"].to_list())),
            scorer=fuzz.ratio,
            dtype="uint8",  # rounded: 89.5 is 90, so that is the cut-off
            score_cutoff=SIMILARITY - 0.5,
            workers=-1,  # rapidfuzz's own threads, on every core
        )
        matched = batch.filter(pl.Series(scores >= SIMILARITY, dtype=pl.Boolean))
        alike += matched.select("i", "i_b").iter_rows()
    del pairs, text
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in alike:
        parent[root(a)] = root(b)
    roots = {i: root(i) for i in parent}
    component = pl.col("i").replace_strict(list(roots), list(roots.values()), default=pl.col("i"))
    members = names.filter(pl.col("i").is_in(list(roots))).select("pair")
    grouped = keyed.filter(
        pl.col("pair").is_duplicated() | pl.col("pair").is_in(members["pair"].implode())
    )
    groups = (
        grouped.join(names.select("pair", "name", component.alias("component")), on="pair")
        .group_by("component")
        .agg(
            pl.col(ROW).min().alias("first"),
            pl.len().alias("size"),
            pl.col(ROW).sort().head(MAX_ROWS),
            pl.col("name").unique().sort(),
        )
        .filter(pl.col("size") > 1)
    )
    first = groups.sort("first").head(limit)
    listed = [(tuple(rows), size, tuple(shared)) for _, _, size, rows, shared in first.iter_rows()]
    return groups.height, listed
