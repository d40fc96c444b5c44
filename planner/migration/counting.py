"""The formats of one column's cells, counted exactly with polars, whatever the file's size.

A column arrives as :class:`Cells`: a LazyFrame of its filled cells with a :data:`COUNT`
column, either its distinct values with how often each occurs (a column of few distinct
values) or its cells one by one with a count of 1 (a column of many). Every count here is a
sum of :data:`COUNT`, so both read alike. Cells held in memory (a column small enough) are
counted as distinct values are, the queries together; polars' streaming engine keeps the
memory of the others bounded.

Labels come from the tables of :mod:`planner.migration.formats`, turned into polars
expressions (numbers, phone numbers, e-mail addresses, the dates polars reads itself); what
polars cannot judge (a slashed date's day or month, an impossible date, a phone number's
validity, yes or no) is judged by the same module's Python functions, on distinct values.
Each counter returns (aggregates, values): counts and labels, then what it quotes of the file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import polars as pl

from planner.migration import formats

COUNT = "__count"
LABEL = "__label"
PHONE_LIMIT = 5000  # distinct phone numbers checked one by one with phonenumbers, at most
Counted = tuple[dict[str, Any], dict[str, Any]]


@dataclass(frozen=True)
class Cells:
    """One column's filled cells (see the module): ``frame`` has ``name`` and :data:`COUNT`;
    ``distinct`` says it holds every distinct value once; ``sample`` is (value, weight) of
    cells the type was inferred from; ``region`` reads phone numbers; ``n`` values are quoted;
    ``held`` says ``frame`` is in memory (as distinct values always are)."""

    frame: pl.LazyFrame
    name: str
    distinct: bool
    sample: list[tuple[str, int]]
    region: str
    n: int
    held: bool = False

    @property
    def engine(self) -> Any:
        """Streaming for the cells of a file; in memory for cells or values held already."""
        return "auto" if self.held or self.distinct else "streaming"

    @property
    def text(self) -> pl.Expr:
        """The cell as classified: its surrounding whitespace trimmed."""
        return pl.col(self.name).str.strip_chars()

    def labelled(self, table: list[tuple[str, str]]) -> pl.LazyFrame:
        """The cells with :data:`LABEL`: the label of the first pattern each matches whole."""
        label: Any = pl
        for key, pattern in table:
            label = label.when(self.text.str.contains(formats.whole(pattern))).then(pl.lit(key))
        other = pl.lit(formats.OTHER)
        return self.frame.with_columns((label.otherwise(other) if table else other).alias(LABEL))

    def examples(self, frame: pl.LazyFrame, labels: list[str]) -> pl.LazyFrame:
        """Up to ``n`` values of each of ``labels`` of a labelled frame, the most frequent
        first (read with :func:`_quoted`)."""
        return (
            frame.filter(pl.col(LABEL).is_in(labels))
            .group_by(LABEL, self.name)
            .agg(pl.col(COUNT).sum())
            .sort([COUNT, self.name], descending=[True, False])
            .group_by(LABEL, maintain_order=True)
            .head(self.n)
        )

    def counted(self, *queries: pl.LazyFrame) -> list[pl.DataFrame]:
        """The queries' results. Values held in memory are counted at once (polars shares the
        work); cells of a file one query at a time, streaming: shared work would be held."""
        if self.held or self.distinct:
            return pl.collect_all(list(queries))
        return [query.collect(engine="streaming") for query in queries]


def _quoted(found: pl.DataFrame, name: str, labels: list[str]) -> dict[str, list[str]]:
    """{"invalid_examples": [...], ...} from :meth:`Cells.examples`."""
    return {
        f"{label}_examples": found.filter(pl.col(LABEL) == label)[name].to_list()
        for label in labels
    }


def _labels(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.group_by(LABEL).agg(pl.col(COUNT).sum())


_GROUPS = list(formats.GROUP_SEPARATORS)
_READ = {  # how a number of each shape becomes one polars casts (formats._read_number)
    "plain": lambda text: text,
    "comma": lambda text: text.str.replace(",", ".", literal=True),
    "spaces": lambda text: text.str.replace_many(_GROUPS, [""] * len(_GROUPS)).str.replace(
        ",", ".", literal=True
    ),
    "commas": lambda text: text.str.replace_all(",", "", literal=True),
    "dots": lambda text: text.str.replace_all(".", "", literal=True).str.replace(",", "."),
}


def numbers(cells: Cells) -> Counted:
    """Number formats, and the least and greatest number (whole when all are)."""
    shapes = formats.NUMBER_SHAPES
    frame = cells.labelled([(str(i), shape) for i, (_, shape, _) in enumerate(shapes)])
    number: Any = pl
    for i, (_, _, how) in enumerate(shapes):
        number = number.when(pl.col(LABEL) == str(i)).then(_READ[how](cells.text))
    number = number.otherwise(None).cast(pl.Float64)
    counted, quoted = cells.counted(
        frame.group_by(LABEL).agg(
            pl.col(COUNT).sum(), number.min().alias("least"), number.max().alias("most")
        ),
        cells.examples(frame, [formats.OTHER]),
    )
    found: Counter[str] = Counter()
    for key, count, _, _ in counted.iter_rows():
        found[shapes[int(key)][0] if key != formats.OTHER else key] += count
    least, most = counted["least"].min(), counted["most"].max()
    bounds: list[Any] = [least, most]
    if all(isinstance(x, float) and x.is_integer() for x in bounds):
        bounds = [int(x) for x in bounds]
    examples = _quoted(quoted, cells.name, [formats.OTHER])
    return {"formats": dict(found)}, {"min": bounds[0], "max": bounds[1], **examples}


def emails(cells: Cells) -> Counted:
    """Valid addresses, lists of addresses in one cell, invalid ones (an @ but no address)."""
    frame = cells.labelled(
        [
            (formats.VALID, formats.EMAIL_SHAPE),
            (formats.SEVERAL_ADDRESSES, formats.SEVERAL_EMAILS_SHAPE),
            (formats.INVALID, ".*@.*"),
        ]
    )
    wrong = [formats.INVALID, formats.OTHER]
    counted, quoted = cells.counted(_labels(frame), cells.examples(frame, wrong))
    found = dict(counted.iter_rows())
    invalid = found.get(formats.INVALID, 0)
    return {"formats": found, "invalid": invalid}, _quoted(quoted, cells.name, wrong)


def phones(cells: Cells) -> Counted:
    """Phone formats for the region; numbers phonenumbers finds invalid: every distinct one
    when there are at most :data:`PHONE_LIMIT`, else those of the sample (an estimate)."""
    shapes = formats.phone_shapes(cells.region)
    frame = cells.labelled([(shape.label, shape.pattern) for shape in shapes])
    counted, quoted = cells.counted(_labels(frame), cells.examples(frame, [formats.OTHER]))
    found = dict(counted.iter_rows())
    international = [shape.label for shape in shapes if shape.prefix is not None]
    checked: list[tuple[str, int]] = []
    total = sum(count for label, count in found.items() if label in international)
    if cells.distinct:
        distinct = frame.filter(pl.col(LABEL).is_in(international)).select(cells.name, COUNT)
        checked = list(distinct.head(PHONE_LIMIT + 1).collect().iter_rows())
    exact = cells.distinct and len(checked) <= PHONE_LIMIT
    if not exact:
        checked = [
            (v, c)
            for v, c in cells.sample
            if (shape := formats.phone_shape(v, cells.region)) and shape.prefix
        ]
    invalid = [(v, c) for v, c in checked if formats.normalise_phone(v, cells.region) is None]
    bad = sum(c for _, c in invalid)
    if not exact:  # the sample's share of invalid numbers, over all numbers
        bad = round(bad / max(1, sum(c for _, c in checked)) * total)
    aggregates: dict[str, Any] = {"formats": found, "invalid": bad}
    if not exact:
        aggregates["estimated"] = ["invalid"]
    worst = sorted(invalid, key=lambda item: (-item[1], item[0]))[: cells.n]
    examples = {"invalid_examples": [v for v, _ in worst]}
    return aggregates, examples | _quoted(quoted, cells.name, [formats.OTHER])


def dates(cells: Cells) -> Counted:
    """Date formats, impossible and ambiguous dates, the first and last day. The formats of
    the sample that polars reads itself are counted by polars; every other value, and every
    one polars refuses, by :func:`formats.parse_date`, one distinct value at a time."""
    seen = Counter()
    for value, count in cells.sample:
        if date := formats.parse_date(value):
            seen[date.format] += count
    fast = [
        (label, form) for label, _ in seen.most_common() if (form := formats.strptime_form(label))
    ]
    frame = cells.labelled([(label, pattern) for label, (pattern, _) in fast])
    day: Any = pl
    for label, (_, strftime) in fast:
        read = cells.text.str.strptime(pl.Datetime, strftime, strict=False).dt.date()
        day = day.when(pl.col(LABEL) == label).then(read)
    frame = frame.with_columns(
        (day.otherwise(None) if fast else pl.lit(None, pl.Date)).alias("day")
    )
    read_by_polars = (
        frame.filter(pl.col("day").is_not_null())
        .group_by(LABEL)
        .agg(pl.col(COUNT).sum(), pl.col("day").min().alias("least"), pl.col("day").max())
    )
    rest = frame.filter(pl.col("day").is_null()).group_by(cells.name).agg(pl.col(COUNT).sum())
    done, left = cells.counted(read_by_polars, rest)
    found: Counter[str] = Counter()
    status: Counter[str] = Counter()
    days = [*done["least"].drop_nulls(), *done["day"].drop_nulls()]
    for label, count, _, _ in done.iter_rows():
        found[label] += count
        status[formats.VALID] += count
    quoted: dict[str, list[tuple[int, str]]] = {"invalid": [], "ambiguous": [], "other": []}
    for value, count in left.iter_rows():
        date = formats.parse_date(value, serials=True)
        found[date.format if date else formats.OTHER] += count
        if date and date.day:
            days.append(date.day)
        key = date.status if date else formats.OTHER
        status[key] += count
        if key in quoted:
            quoted[key].append((-count, value))
    values: dict[str, Any] = {
        "min": min(days).isoformat() if days else None,
        "max": max(days).isoformat() if days else None,
    }
    for key, listed in quoted.items():
        values[f"{key}_examples"] = [value for _, value in sorted(listed)[: cells.n]]
    aggregates = {
        "formats": dict(found),
        "invalid": status[formats.INVALID],
        "ambiguous": status[formats.AMBIGUOUS],
    }
    return aggregates, values


def booleans(cells: Cells) -> Counted:
    """The yes/no pairs used ("да/нет", "true/false"), and what is neither."""
    found: Counter[str] = Counter()
    counts = cells.frame.group_by(cells.name).agg(pl.col(COUNT).sum()).collect(engine=cells.engine)
    for value, count in counts.iter_rows():
        found[formats.boolean_format(value) or formats.OTHER] += count
    return {"formats": dict(found)}, {}


COUNTERS = {
    "integer": numbers,
    "decimal": numbers,
    "email": emails,
    "phone": phones,
    "date": dates,
    "datetime": dates,
    "boolean": booleans,
}
