"""Rules of vendor selection: the lists, the scoring round, the fair process, the results.

Service functions take a Session and plain values, flush, audit, and raise errors from
:mod:`planner.core.errors`; the caller commits once. Results come from the pure maths in
:mod:`planner.vendors.scoring`, computed from one read of the board and cached in the
database until the board's revision changes.

The rules live in one module per seam of the process; this module gathers their public
functions, so that callers (pages, API, sheets, report, demo) write ``service.create_vendor``
wherever the rule lives:

- :mod:`planner.vendors.round_state`: the round's row and its revision;
- :mod:`planner.vendors.catalogue`: vendors, criteria, AHP pairwise weights;
- :mod:`planner.vendors.scoring_round`: opening and closing the round (two envelopes);
- :mod:`planner.vendors.review`: conflicts of interest, recusals, scores, scoresheets;
- :mod:`planner.vendors.results`: the board read once, the maths, the cache per revision;
- :mod:`planner.vendors.decision`: consensus, decision, contract; the board at a glance; the
  vendors gate.

Within vendors the modules depend one way, in that order.
"""

from __future__ import annotations

from planner.vendors.catalogue import (  # noqa: F401 (gathered here)
    CRITERION_FIELDS,
    DEFAULT_CRITERIA,
    NEAR_DUPLICATE,
    VENDOR_FIELDS,
    add_default_criteria,
    create_criterion,
    create_vendor,
    criteria,
    delete_criterion,
    delete_vendor,
    get_criterion,
    get_vendor,
    name_key,
    normalise_name,
    pairwise,
    set_pairwise,
    stored_ahp,
    update_criterion,
    update_vendor,
    vendors,
)
from planner.vendors.decision import (  # noqa: F401 (gathered here)
    CONTRACT_FIELDS,
    DECISION_SUBJECT,
    BoardSummary,
    approve_decision,
    board_summary,
    consensus_rows,
    decision,
    decision_approvals,
    decision_content,
    record_decision,
    set_consensus,
    update_contract,
    vendors_criteria,
)
from planner.vendors.results import (  # noqa: F401 (gathered here)
    MC_DRAWS,
    MC_SEED,
    RESULTS_FORMAT,
    cache_variant,
    compute,
    disagreement_entries,
    evaluation,
    evaluation_for,
    evaluation_json,
    evaluation_json_for,
    evaluation_summary_for,
    load_board,
    require_results,
)
from planner.vendors.review import (  # noqa: F401 (gathered here)
    can_see_board,
    declarations,
    declare_conflicts,
    lift_recusal,
    may_read_conflict_reasons,
    own_scores,
    parse_score,
    put_scores,
    recusals,
    recuse,
    reviewers,
    submit_scoresheet,
    submitted,
)
from planner.vendors.round_state import (  # noqa: F401 (gathered here)
    bump_revision,
    get_round,
    require_round_editable,
)
from planner.vendors.schemas import ConflictItem, ScoreInput  # noqa: F401 (what the rules take)
from planner.vendors.scoring_round import (  # noqa: F401 (gathered here)
    Envelopes,
    envelopes,
    prices_visible,
    set_round_state,
)
