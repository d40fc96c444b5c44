"""The board's review of a design version: the indicators it is scored on (frozen with each
version), the reviewers' scores (blind until each submits), and the results computed with the
scoring board's pure maths (core/scoring.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.core import audit, scoring
from planner.core.accounts.models import User
from planner.core.db import MAX_INT
from planner.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission, Role
from planner.core.versioning import ensure_version
from planner.design.models import (
    DesignVersion,
    Indicator,
    ReviewScore,
    ReviewSubmission,
)
from planner.projects.access import Access
from planner.projects.models import Membership

# Seed 001: the board reviews the design on feasibility, cost-effectiveness and risk control.
DEFAULT_INDICATORS = (
    (
        "Feasibility",
        "Can the company and the vendor build and run it with the people and time there are?",
    ),
    ("Cost-effectiveness", "Does what it costs, now and over three years, match what it brings?"),
    ("Risk control", "Are the risks known, and is each one owned and kept small?"),
)

DISAGREEMENT = 2  # scores this far apart (max − min) on one indicator: the board disagrees


def _is_latest(session: Session, version: DesignVersion) -> bool:
    """Whether ``version`` is its rollout's newest (the one under review)."""
    newest = session.scalar(
        select(func.max(DesignVersion.number)).where(DesignVersion.project_id == version.project_id)
    )
    return newest == version.number


# --- the board's review ------------------------------------------------------------------------


def indicators(session: Session, project_id: int) -> list[Indicator]:
    """The review's indicators, in their order."""
    return list(
        session.scalars(
            select(Indicator)
            .where(Indicator.project_id == project_id)
            .order_by(Indicator.position, Indicator.id)
        )
    )


def ensure_indicators(session: Session, access: Access) -> list[Indicator]:
    """The indicators, the defaults of seed 001 made on first use (feasibility,
    cost-effectiveness, risk control)."""
    found = indicators(session, access.project.id)
    if found:
        return found
    for i, (name, guide) in enumerate(DEFAULT_INDICATORS, start=1):
        session.add(
            Indicator(
                project_id=access.project.id,
                name=name,
                guide=guide,
                weight=1.0,
                position=i,
                updated_by_id=access.user.id,
            )
        )
    session.flush()
    return indicators(session, access.project.id)


@dataclass(frozen=True)
class VersionIndicator:
    """An indicator as a version is scored on it: its name and weight as they were when the
    version was submitted."""

    id: int
    name: str
    guide: str
    weight: float


def version_indicators(session: Session, version: DesignVersion) -> list[VersionIndicator]:
    """The indicators ``version`` is scored on, as frozen with it, in their order (one
    statement)."""
    frozen = {i["id"]: i for i in version.content.get("indicators", [])}
    return [
        VersionIndicator(i.id, frozen[i.id]["name"], i.guide, float(frozen[i.id]["weight"]))
        for i in indicators(session, version.project_id)
        if i.id in frozen
    ]


def add_indicator(
    session: Session, access: Access, *, name: str, guide: str = "", weight: float = 1.0
) -> Indicator:
    """Add an indicator the board scores (needs EDIT), from the next submitted version on
    (a version keeps the indicators it was submitted with); Conflict for a name taken."""
    access.require(Permission.EDIT)
    current = ensure_indicators(session, access)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("An indicator needs a name.", {"name": ["Required."]})
    if any(i.name.casefold() == name.casefold() for i in current):
        raise Conflict(f"The review has an indicator named {quoted(name)} already.")
    ind = Indicator(
        project_id=access.project.id,
        name=name,
        guide=(guide or "").replace("\r\n", "\n").strip(),
        weight=weight,
        position=max(i.position for i in current) + 1,
        updated_by_id=access.user.id,
    )
    session.add(ind)
    session.flush()
    audit.log(
        session, access, "design.indicator.create", ind, f"review indicator {quoted(name)} added"
    )
    return ind


def get_indicator(session: Session, project_id: int, indicator_id: int) -> Indicator:
    """Indicator ``indicator_id`` of the rollout; NotFound else."""
    found = session.get(Indicator, indicator_id) if 0 < indicator_id <= MAX_INT else None
    if found is None or found.project_id != project_id:
        raise NotFound("No such indicator.")
    return found


def frozen_in(session: Session, indicator: Indicator) -> list[int]:
    """The numbers of the submitted versions scored on ``indicator`` (each keeps its name and
    weight as they were), in order (one statement)."""
    versions = session.execute(
        select(DesignVersion.number, DesignVersion.content)
        .where(DesignVersion.project_id == indicator.project_id)
        .order_by(DesignVersion.number)
    )
    return [
        number
        for number, content in versions
        if any(i.get("id") == indicator.id for i in (content or {}).get("indicators", []))
    ]


def update_indicator(
    session: Session,
    access: Access,
    indicator: Indicator,
    *,
    version: int | None,
    name: str,
    guide: str = "",
    weight: float = 1.0,
) -> Indicator:
    """Change an indicator (needs EDIT), from the next submitted version on: a version keeps
    the name and weight it was submitted with (its guide is read as it is now). StaleEdit if
    changed since ``version``; Conflict for a name another indicator has."""
    access.require(Permission.EDIT)
    ensure_version(session, indicator, version)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("An indicator needs a name.", {"name": ["Required."]})
    if any(
        i.id != indicator.id and i.name.casefold() == name.casefold()
        for i in indicators(session, indicator.project_id)
    ):
        raise Conflict(f"The review has an indicator named {quoted(name)} already.")
    before = {"name": indicator.name, "guide": indicator.guide, "weight": indicator.weight}
    indicator.name = name
    indicator.guide = (guide or "").replace("\r\n", "\n").strip()
    indicator.weight = weight
    indicator.updated_by_id = access.user.id
    session.flush()
    after = {"name": indicator.name, "guide": indicator.guide, "weight": indicator.weight}
    if after != before:
        audit.log(
            session,
            access,
            "design.indicator.update",
            indicator,
            f"review indicator {quoted(indicator.name)} changed",
            before=before,
            after=after,
        )
    return indicator


def delete_indicator(session: Session, access: Access, indicator: Indicator) -> None:
    """Remove an indicator no version was submitted with (needs EDIT). Conflict for one a
    version is scored on (the board's scores stay with it), and for the last one (the review
    needs one)."""
    access.require(Permission.EDIT)
    if numbers := frozen_in(session, indicator):
        listed = ", ".join(str(n) for n in numbers)
        raise Conflict(
            f"{quoted(indicator.name)} stays: the board scores version {listed} on it. "
            "Change its weight to count it less from the next version on."
            if len(numbers) == 1
            else f"{quoted(indicator.name)} stays: the board scores versions {listed} on it. "
            "Change its weight to count it less from the next version on."
        )
    if len(indicators(session, indicator.project_id)) == 1:
        raise Conflict("The review needs at least one indicator: add another first.")
    audit.log(
        session,
        access,
        "design.indicator.delete",
        indicator,
        f"review indicator {quoted(indicator.name)} removed",
        before={"name": indicator.name, "guide": indicator.guide, "weight": indicator.weight},
    )
    session.delete(indicator)
    session.flush()


def reviewers(session: Session, project_id: int) -> list[int]:
    """The user ids of the rollout's reviewers (the board)."""
    return list(
        session.scalars(
            select(Membership.user_id).where(
                Membership.project_id == project_id, Membership.role == Role.REVIEWER
            )
        )
    )


@dataclass(frozen=True)
class ScoreInput:
    """A reviewer's score of one indicator, as typed (checked by :func:`save_scores`)."""

    indicator_id: int
    score: int
    comment: str = ""


def submitted_by(session: Session, version: DesignVersion) -> set[int]:
    """Who submitted their review of ``version``."""
    return set(
        session.scalars(
            select(ReviewSubmission.reviewer_id).where(ReviewSubmission.version_id == version.id)
        )
    )


def own_scores(
    session: Session, version: DesignVersion, reviewer_id: int
) -> dict[int, ReviewScore]:
    """The reviewer's scores of ``version`` by indicator id."""
    return {
        s.indicator_id: s
        for s in session.scalars(
            select(ReviewScore).where(
                ReviewScore.version_id == version.id, ReviewScore.reviewer_id == reviewer_id
            )
        )
    }


def save_scores(
    session: Session,
    access: Access,
    version: DesignVersion,
    scores: list[ScoreInput],
    *,
    submit: bool = False,
) -> int:
    """Save the calling reviewer's scores of a version (needs SCORE), or submit them (every
    indicator scored; then final). Conflict for a version that is not the latest, or a
    review already submitted; ValidationError naming an indicator of another rollout or a
    score outside 1–5. Returns how many scores changed."""
    if not access.can(Permission.SCORE):
        raise PermissionDenied("Only the board's reviewers score the design.")
    if not _is_latest(session, version):
        raise Conflict(f"Version {version.number} is no longer under review.")
    if access.user.id in submitted_by(session, version):
        raise Conflict("You have submitted your review of this version; it can no longer change.")
    by_id = {i.id: i for i in version_indicators(session, version)}
    errors: dict[str, list[str]] = {}
    for n, s in enumerate(scores):
        if s.indicator_id not in by_id:
            errors[f"scores[{n}].indicator_id"] = ["Not an indicator of this review."]
        elif not 1 <= s.score <= 5:
            errors[f"scores[{n}].score"] = ["A whole number from 1 to 5."]
    if errors:
        raise ValidationError(
            f"{counted(len(errors), 'score')} cannot be taken; nothing was saved.", errors
        )
    own = own_scores(session, version, access.user.id)
    changed = 0
    for s in scores:
        row = own.get(s.indicator_id)
        if row is None:
            row = ReviewScore(
                version_id=version.id, indicator_id=s.indicator_id, reviewer_id=access.user.id
            )
            session.add(row)
            own[s.indicator_id] = row
        if (row.score, row.comment) != (s.score, s.comment.strip()):
            row.score, row.comment = s.score, s.comment.strip()
            changed += 1
    if submit:
        missing = [i.name for iid, i in by_id.items() if iid not in own]
        if missing:
            raise ValidationError(
                "Score every indicator before you submit: " + ", ".join(missing) + ".",
                {"scores": ["Every indicator needs a score."]},
            )
        session.add(ReviewSubmission(version_id=version.id, reviewer_id=access.user.id))
    session.flush()
    audit.log(
        session,
        access,
        "design.review.submit" if submit else "design.review.save",
        version,
        f"review of the solution design, version {version.number}, "
        + ("submitted" if submit else f"saved ({counted(changed, 'score')} changed)"),
    )
    return changed


def may_see_results(session: Session, access: Access, version: DesignVersion) -> bool:
    """The board's scores are blind: a reviewer sees them once they submitted their own; the
    lead and the executives always; a viewer once every reviewer has submitted."""
    if access.can(Permission.EDIT) or access.can(Permission.APPROVE):
        return True
    done = submitted_by(session, version)
    if access.can(Permission.SCORE):
        return access.user.id in done
    board = set(reviewers(session, access.project.id))
    return bool(board) and board <= done


# --- the review's results (the scoring board's maths, core/scoring.py) --------------------------


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator of a version's review: its mean, how far apart the board is, the scores
    side by side (reviewer's name, score, comment)."""

    indicator: VersionIndicator
    mean: float | None
    spread: int | None
    scores: list[tuple[str, int, str]]

    @property
    def disagreement(self) -> bool:
        return self.spread is not None and self.spread >= DISAGREEMENT


@dataclass(frozen=True)
class ReviewResult:
    """The board's review of a version: per indicator, the weighted total (0–100) and
    Kendall's W (how alike the reviewers rank the indicators, 0 to 1)."""

    indicators: list[IndicatorResult]
    total: float | None
    kendalls_w: float | None
    submitted: int
    board: int

    @property
    def disagreements(self) -> list[IndicatorResult]:
        return [r for r in self.indicators if r.disagreement]


def review_result(session: Session, access: Access, version: DesignVersion) -> ReviewResult:
    """The submitted reviews of ``version`` (drafts count nowhere), computed with the scoring
    board's pure maths: a one-option board over the indicators gives the means, the spread
    and the weighted total; the indicators as options give Kendall's W (four statements)."""
    inds = version_indicators(session, version)
    done = submitted_by(session, version)
    rows = session.execute(
        select(
            ReviewScore.reviewer_id,
            ReviewScore.indicator_id,
            ReviewScore.score,
            ReviewScore.comment,
            User.display_name,
            User.username,
        )
        .join(User, User.id == ReviewScore.reviewer_id)
        .where(ReviewScore.version_id == version.id)
        .order_by(User.display_name, User.username)
    ).all()
    counted_rows = [r for r in rows if r.reviewer_id in done]
    entries = [
        scoring.ScoreEntry(r.reviewer_id, version.id, r.indicator_id, r.score) for r in counted_rows
    ]
    board = scoring.Board(
        vendors=[scoring.VendorSpec(version.id, f"version {version.number}")],
        criteria=[scoring.CriterionSpec(i.id, i.name, i.weight) for i in inds],
        scores=entries,
    )
    result = scoring.evaluate(board).vendors[version.id] if inds else None
    spreads = {d.criterion_id: d.spread for d in scoring.disagreements(board, 1)} if inds else {}
    by_indicator = scoring.Board(
        vendors=[scoring.VendorSpec(i.id, i.name) for i in inds],
        criteria=[scoring.CriterionSpec(0, "score", 1.0)],
        scores=[scoring.ScoreEntry(e.reviewer_id, e.criterion_id, 0, e.score) for e in entries],
    )
    w = scoring.kendalls_w(by_indicator) if len(inds) >= 2 else None
    out = []
    for i in inds:
        mine = [
            (r.display_name or r.username, r.score, r.comment)
            for r in counted_rows
            if r.indicator_id == i.id
        ]
        mean = result.criterion_scores.get(i.id) if result else None
        out.append(
            IndicatorResult(
                i,
                mean,
                spreads.get(i.id, 0 if len(mine) >= 2 else None),
                mine,
            )
        )
    return ReviewResult(
        out,
        result.weighted_total if result else None,
        w,
        len(done),
        len(reviewers(session, access.project.id)),
    )
