"""The results: the board read once, the maths of scoring.py, cached per revision.

Part of the vendor-selection rules (see :mod:`planner.vendors.service`).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

from flask import has_request_context
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.core.db import utcnow, writes_here, writing
from planner.core.errors import PermissionDenied
from planner.core.permissions import Role
from planner.projects.access import Access
from planner.projects.models import Department, Membership
from planner.vendors import scoring
from planner.vendors.models import (
    Consensus,
    Criterion,
    EvaluationCache,
    Recusal,
    RoundState,
    Score,
    ScoringRound,
    Submission,
    Vendor,
)
from planner.vendors.review import can_see_board, reviewers, submitted
from planner.vendors.round_state import board_revision, get_round
from planner.vendors.scoring_round import envelopes


def load_board(session: Session, project_id: int) -> scoring.Board:
    """Everything the maths needs, in five statements whatever the size of the board."""
    vs = [
        scoring.VendorSpec(id=i, name=n, cost=c)
        for i, n, c in session.execute(
            select(Vendor.id, Vendor.name, Vendor.cost_3y)
            .where(Vendor.project_id == project_id)
            .order_by(Vendor.name_key)
        )
    ]
    cs = [
        scoring.CriterionSpec(
            id=i, name=n, weight=w, group=g, must_have=m, min_score=ms, is_price=p
        )
        for i, n, w, g, m, ms, p in session.execute(
            select(
                Criterion.id,
                Criterion.name,
                Criterion.weight,
                Criterion.group,
                Criterion.must_have,
                Criterion.min_score,
                Criterion.is_price,
            )
            .where(Criterion.project_id == project_id)
            .order_by(Criterion.position, Criterion.id)
        )
    ]
    scores = [
        scoring.ScoreEntry(
            reviewer_id=r, vendor_id=v, criterion_id=c, score=s, department=d, comment=cm
        )
        for r, v, c, s, cm, d in session.execute(
            select(
                Score.reviewer_id,
                Score.vendor_id,
                Score.criterion_id,
                Score.score,
                Score.comment,
                Department.name,
            )
            .join(
                Membership,
                (Membership.user_id == Score.reviewer_id)
                & (Membership.project_id == Score.project_id),
            )
            .join(  # only submitted scoresheets count: a draft moves no result
                Submission,
                (Submission.project_id == Score.project_id)
                & (Submission.reviewer_id == Score.reviewer_id),
            )
            .outerjoin(Department, Department.id == Membership.department_id)
            .where(Score.project_id == project_id)
        )
    ]
    consensus = {
        (v, c): s
        for v, c, s in session.execute(
            select(Consensus.vendor_id, Consensus.criterion_id, Consensus.score).where(
                Consensus.project_id == project_id
            )
        )
    }
    rec = frozenset(
        (r, v)
        for r, v in session.execute(
            select(Recusal.reviewer_id, Recusal.vendor_id).where(Recusal.project_id == project_id)
        )
    )
    return scoring.Board(vendors=vs, criteria=cs, scores=scores, consensus=consensus, recusals=rec)


MC_DRAWS = 10_000


MC_SEED = 20261124

# What :func:`compute` gives for a board, numbered: bump it whenever the same board gives other
# numbers or fields, so that evaluations cached by earlier code are computed again rather than
# served (a closed round's board never changes its revision). 1: the cache rows without a
# number, some computed when a tie for first went, in every Monte-Carlo draw, to the vendor
# listed first (P(first) 100 % and 0 % for identical vendors). 2: ties shared (#12).
RESULTS_FORMAT = 2


def cache_variant(technical_only: bool, results_format: int = RESULTS_FORMAT) -> str:
    """The cache row's name for an evaluation of this kind and format ("full.2",
    "technical.2"; format 1 had no number). At most 12 characters, as the column allows."""
    name = "technical" if technical_only else "full"
    return name if results_format == 1 else f"{name}.{results_format}"


def compute(board: scoring.Board) -> dict[str, Any]:
    """The whole evaluation as plain JSON-able data.

    ``first_place`` lists the vendors ranked first (several when tied), in the order of
    ``vendors``; ``tie_breaks`` is {} unless first place is shared, and then says, for each
    criterion and each tied vendor, which way a change of the criterion's share puts that
    vendor first alone (:func:`planner.vendors.scoring.tie_breaks`).
    """
    names = {v.id: v.name for v in board.vendors}
    result: dict[str, Any] = {
        "vendors": [],
        "criteria": [
            {
                "id": c.id,
                "name": c.name,
                "weight": c.weight,
                "group": c.group,
                "must_have": c.must_have,
                "min_score": c.min_score,
                "is_price": c.is_price,
            }
            for c in board.criteria
        ],
    }
    if not board.vendors or not board.criteria:
        result.update(
            first_place=[],
            disagreements=[],
            kendalls_w=None,
            departments={},
            sensitivity={},
            tie_breaks={},
            monte_carlo={},
            calibration=None,
        )
        return result
    everything = scoring.analyse(board, draws=MC_DRAWS, seed=MC_SEED)
    ev = everything.evaluation
    for v in board.vendors:
        r = ev.vendors[v.id]
        result["vendors"].append(
            {
                "vendor_id": v.id,
                "name": v.name,
                "criterion_scores": {str(k): s for k, s in r.criterion_scores.items()},
                "weighted_total": r.weighted_total,
                "rank": r.rank,
                "incomplete": r.incomplete,
                "knocked_out": r.knocked_out,
            }
        )
    result["vendors"].sort(key=lambda x: (x["rank"] is None, x["rank"] or 0, x["name"]))
    result["first_place"] = [v["vendor_id"] for v in result["vendors"] if v["rank"] == 1]
    result["disagreements"] = [
        {
            "vendor_id": d.vendor_id,
            "vendor": names.get(d.vendor_id),
            "criterion_id": d.criterion_id,
            "spread": d.spread,
            "has_consensus": d.has_consensus,
            "entries": [
                {"reviewer_id": e.reviewer_id, "score": e.score}
                | ({"comment": e.comment} if e.comment else {})
                for e in d.entries
            ],
        }
        for d in everything.disagreements
    ]
    result["reviewers"] = {str(s.reviewer_id): {"department": s.department} for s in board.scores}
    result["kendalls_w"] = everything.kendalls_w
    result["departments"] = {
        dept: {str(k): t for k, t in totals.items()}
        for dept, totals in everything.department_totals.items()
    }
    result["sensitivity"] = {
        str(cid): (
            None
            if s is None
            else {
                "change_pp": s.change_pp,
                "new_winner": s.new_winner,
                "new_winners": s.new_winners,
            }
        )
        for cid, s in everything.sensitivity.items()
    }
    order = {vid: i for i, vid in enumerate(result["first_place"])}
    result["tie_breaks"] = {
        str(cid): {
            str(vid): None if b is None else _plain(b)
            for vid, b in sorted(by_vendor.items(), key=lambda item: order[item[0]])
        }
        for cid, by_vendor in everything.tie_breaks.items()
    }
    result["monte_carlo"] = {str(k): p for k, p in everything.monte_carlo.items()}
    cal = everything.calibration
    result["calibration"] = (
        None
        if cal is None
        else {
            "board_mean": cal.board_mean,
            "board_sd": cal.board_sd,
            "reviewers": [_plain(r) for r in cal.reviewers],
            "standardised_totals": {str(k): t for k, t in cal.standardised_totals.items()},
        }
    )
    return result


def _plain(obj: Any) -> Any:
    from dataclasses import fields as dc_fields
    from dataclasses import is_dataclass

    if is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dc_fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item"):  # numpy scalar
        return obj.item()
    return obj


def _cached(session: Session, project_id: int, technical_only: bool, column: Any) -> str:
    """One cached column of the evaluation, recomputed when the board's revision moved.

    ``technical_only`` leaves the price criteria out: what people without commercial access
    see while a two-envelope round has not closed technical scoring.
    """
    variant = cache_variant(technical_only)
    revision = board_revision(session, project_id)
    key = (EvaluationCache.project_id == project_id) & (EvaluationCache.variant == variant)
    row = session.execute(select(EvaluationCache.revision, column).where(key)).first()
    if row is not None and row[0] == revision:
        return row[1]
    board = load_board(session, project_id)
    if technical_only:
        board = replace(board, criteria=[c for c in board.criteria if not c.is_price])
    result = compute(board)
    body = json.dumps(result, separators=(",", ":"), allow_nan=False)
    for d in result["disagreements"]:
        d["scores"] = len(d.pop("entries"))
    summary = json.dumps(result, separators=(",", ":"), allow_nan=False)
    _store(session, project_id, variant, revision, body, summary)
    return body if column is EvaluationCache.body else summary


def _store(
    session: Session, project_id: int, variant: str, revision: int, body: str, summary: str
) -> None:
    """Keep a computed evaluation: in the caller's transaction when it writes anyway (a POST)
    or runs outside a request (a job, a script); in a reading request (a GET) in a short writing
    transaction of its own on another connection, so that the request stays a reader (a GET
    that upgraded its read transaction would fail on SQLite while others write) and commits
    nothing else. Two readers storing the same evaluation at once:
    the second finds the row taken and leaves it (an old revision is recomputed when read)."""
    if writes_here() or not has_request_context():
        _put(session, project_id, variant, revision, body, summary)
        session.flush()
        return
    with writing(), Session(session.get_bind()) as own:
        _put(own, project_id, variant, revision, body, summary)
        try:
            own.commit()
        except IntegrityError:
            own.rollback()


def _put(
    session: Session, project_id: int, variant: str, revision: int, body: str, summary: str
) -> None:
    cached = session.get(EvaluationCache, (project_id, variant))
    if cached is None:
        session.add(
            EvaluationCache(
                project_id=project_id,
                variant=variant,
                revision=revision,
                body=body,
                summary=summary,
            )
        )
    else:
        cached.revision, cached.body, cached.summary = revision, body, summary
        cached.computed_at = utcnow()


def evaluation_json(session: Session, project_id: int, *, technical_only: bool = False) -> str:
    """The whole evaluation as JSON text, from the cache while the board is unchanged."""
    return _cached(session, project_id, technical_only, EvaluationCache.body)


def evaluation(session: Session, project_id: int, *, technical_only: bool = False) -> dict:
    """The evaluation as plain data (see :func:`compute`)."""
    return json.loads(evaluation_json(session, project_id, technical_only=technical_only))


def disagreement_entries(
    session: Session, project_id: int, pairs: list[tuple[int, int]]
) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """The counted scores (submitted, recusals left out) of some vendor × criterion pairs, one
    statement."""
    if not pairs:
        return {}
    rows = session.execute(
        select(Score.vendor_id, Score.criterion_id, Score.reviewer_id, Score.score, Score.comment)
        .join(
            Submission,
            (Submission.project_id == Score.project_id)
            & (Submission.reviewer_id == Score.reviewer_id),
        )
        .outerjoin(
            Recusal,
            (Recusal.project_id == Score.project_id)
            & (Recusal.reviewer_id == Score.reviewer_id)
            & (Recusal.vendor_id == Score.vendor_id),
        )
        .where(
            Score.project_id == project_id,
            tuple_(Score.vendor_id, Score.criterion_id).in_(pairs),
            Recusal.id.is_(None),
        )
        .order_by(Score.reviewer_id)
    ).all()
    out: dict[tuple[int, int], list[dict[str, Any]]] = {p: [] for p in pairs}
    for v, c, r, score, comment in rows:
        out[(v, c)].append({"reviewer_id": r, "score": score, "comment": comment})
    return out


def evaluation_for(session: Session, access: Access) -> dict[str, Any]:
    """The evaluation as this member may see it; PermissionDenied under blind scoring."""
    return json.loads(evaluation_json_for(session, access))


def evaluation_summary_for(session: Session, access: Access) -> dict[str, Any]:
    """:func:`evaluation_for` without the disagreements' individual scores (for pages)."""
    return json.loads(evaluation_json_for(session, access, summary=True))


def require_results(session: Session, access: Access) -> None:
    """Raise PermissionDenied unless this member may see the board's results (blind scoring:
    a reviewer after submitting their own scoresheet, a viewer once the round is closed)."""
    if not can_see_board(session, access):
        raise PermissionDenied(
            "Blind scoring: submit your own scoresheet before you see the board's scores."
            if access.role == Role.REVIEWER
            else "The results are shown once the scoring round is closed."
        )


MIN_SHEETS_FOR_ODDS = 3  # P(first) from one or two scoresheets would read as a certainty


def board_status(session: Session, project_id: int, rnd: ScoringRound | None = None) -> dict:
    """How final the results are: the round's state, the scoresheets submitted and missing,
    whether the results are provisional (the round is not closed), and whether the odds of
    ranking first are shown (from :data:`MIN_SHEETS_FOR_ODDS` submitted scoresheets on)."""
    rnd = rnd or get_round(session, project_id)
    n_reviewers = len(reviewers(session, project_id))
    n_submitted = len(submitted(session, project_id))
    return {
        "round": rnd.state.value,
        "provisional": rnd.state != RoundState.CLOSED,
        "reviewers": n_reviewers,
        "submitted": n_submitted,
        "missing": max(n_reviewers - n_submitted, 0),
        "odds_shown": n_submitted >= MIN_SHEETS_FOR_ODDS,
        "min_sheets_for_odds": MIN_SHEETS_FOR_ODDS,
    }


def evaluation_json_for(session: Session, access: Access, *, summary: bool = False) -> str:
    """:func:`evaluation_for` as JSON text, with the :func:`board_status` under ``status``
    (read now, not cached: it says how final the cached numbers are). With fewer than
    :data:`MIN_SHEETS_FOR_ODDS` submitted scoresheets the odds of ranking first are left out."""
    require_results(session, access)
    rnd = get_round(session, access.project.id)
    technical = envelopes(access, rnd).technical_only
    column = EvaluationCache.summary if summary else EvaluationCache.body
    body = _cached(session, access.project.id, technical, column)
    status = board_status(session, access.project.id, rnd)
    if not status["odds_shown"]:
        result = json.loads(body)
        result["monte_carlo"] = {}
        body = json.dumps(result, separators=(",", ":"), allow_nan=False)
    # the cached object's text, with one member in front: no decoding of the large board
    return '{"status":' + json.dumps(status, separators=(",", ":")) + "," + body[1:]
