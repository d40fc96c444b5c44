"""A KPI's way from its baseline to its target: how far the latest measurement has come.

Pure functions on plain values; the goal page draws the result as a small inline SVG bar.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Progress:
    """``share``: 0 at the baseline, 1 at the target, clipped to 0..1 (``raw`` unclipped: below
    0 the KPI went the wrong way, above 1 it passed the target); the latest measurement."""

    share: float
    raw: float
    latest: float
    measured_on: date

    @property
    def percent(self) -> int:
        return round(self.share * 100)


def progress(
    baseline: float | None, target: float | None, measurements: Iterable[tuple[date, float]]
) -> Progress | None:
    """How far the latest measurement (by date; the later one of a day) has come from the
    baseline towards the target, whichever way the target lies (a KPI may aim down: hours to
    close a complaint). None without a baseline, a target different from it, or a
    measurement."""
    if baseline is None or target is None or not math.isfinite(target - baseline):
        return None
    if target == baseline:
        return None
    points = list(measurements)
    if not points:
        return None
    measured_on, latest = max(enumerate(points), key=lambda ip: (ip[1][0], ip[0]))[1]
    raw = (latest - baseline) / (target - baseline)
    return Progress(share=min(1.0, max(0.0, raw)), raw=raw, latest=latest, measured_on=measured_on)
