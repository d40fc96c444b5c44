"""Layout of the evaluation's charts: plain numbers and strings for the SVG templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

HEAT = ["#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850"]
EMPTY = "#eeeeee"
CELL_W, CELL_H, LEFT, TOP = 44, 22, 200, 90
MAX_LABELLED_CELLS = 300


@dataclass(frozen=True)
class HeatGrid:
    width: int
    height: int
    columns: list[tuple[float, str]]
    rows: list[tuple[int, str]]
    cells: list[tuple[int, int, str, str]]

    def cells_svg(self) -> Markup:
        """The cells as SVG elements, built here because a thousand cells are too many for a
        template loop. Safe without escaping: every value is an int, a colour of HEAT, or a
        score formatted by this module (no user text); the label is escaped all the same."""
        parts = []
        for x, y, fill, label in self.cells:
            parts.append(f'<rect x="{int(x)}" y="{int(y)}" width="42" height="20" fill="{fill}"/>')
            if label:
                parts.append(
                    f'<text x="{int(x) + 21}" y="{int(y) + 14}" font-size="10" '
                    f'text-anchor="middle" fill="#111">{escape(label)}</text>'
                )
        return Markup("".join(parts))  # noqa: S704 - numbers and palette colours only


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def heat_cells(vendors: list[dict[str, Any]], criteria: list[dict[str, Any]]) -> HeatGrid:
    """Vendor × criterion cells coloured by score (0 red … 5 green), labelled when few."""
    labelled = len(vendors) * len(criteria) <= MAX_LABELLED_CELLS
    ids = [str(c["id"]) for c in criteria]
    cells = []
    for r, v in enumerate(vendors):
        scores = v["criterion_scores"]
        y = TOP + CELL_H * r
        for c, cid in enumerate(ids):
            s = scores.get(cid)
            fill = EMPTY if s is None else HEAT[min(5, max(0, round(s)))]
            label = ("—" if s is None else f"{s:.1f}") if labelled else ""
            cells.append((LEFT + CELL_W * c, y, fill, label))
    return HeatGrid(
        width=LEFT + 60 + CELL_W * len(criteria),
        height=TOP + CELL_H * len(vendors),
        columns=[
            (LEFT + CELL_W * i + CELL_W / 2, _short(c["name"], 18)) for i, c in enumerate(criteria)
        ],
        rows=[(TOP + CELL_H * i, _short(v["name"], 28)) for i, v in enumerate(vendors)],
        cells=cells,
    )
