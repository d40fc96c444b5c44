"""A shared first place through the API, the pages and the PDF report (issue #12): P(first)
shared by tied vendors, the tie said as a tie wherever a winner is named, the tie breaks of
the sensitivity, and the random-index table the AHP consistency ratio uses.

The maths itself is tested in microseconds in test_scoring.py; here the same numbers must come
out of the API, the evaluation page and the PDF.
"""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from planner.core.permissions import Role
from planner.core.web import fixed
from planner.extensions import db
from planner.projects import service as projects
from planner.vendors import scoring, service
from planner.vendors.models import EvaluationCache
from planner.vendors.round_state import board_revision
from tests.conftest import csrf_token, login

WEIGHTS = {"Functionality": 3.0, "Security": 2.0, "Usability": 1.0}  # shares 1/2, 1/3, 1/6

# vendor -> criterion -> the three reviewers' scores
TWINS = {  # Contoso and Fabrikam: the same mean on every criterion, from different scores
    "Contoso": {"Functionality": (5, 5, 5), "Security": (3, 3, 3), "Usability": (4, 2, 3)},
    "Fabrikam": {"Functionality": (5, 5, 5), "Security": (2, 4, 3), "Usability": (3, 3, 3)},
    # 4, 5, 1: 76.67 against the twins' 80, ahead on some draws (3·f1 − 4·f2 + 2·f3 < 0)
    "Northwind": {"Functionality": (4, 4, 4), "Security": (5, 5, 5), "Usability": (1, 1, 1)},
}
LEVEL = {  # Contoso (5, 3, 3) and Fabrikam (4, 4, 4) both total 80, Northwind (3, 4, 4) 70
    "Contoso": {"Functionality": (5, 5, 5), "Security": (3, 3, 3), "Usability": (3, 3, 3)},
    "Fabrikam": {"Functionality": (4, 4, 4), "Security": (4, 4, 4), "Usability": (4, 4, 4)},
    "Northwind": {"Functionality": (3, 3, 3), "Security": (4, 4, 4), "Usability": (4, 4, 4)},
}
TRIPLETS = {name: TWINS["Contoso"] for name in ("Contoso", "Fabrikam", "Northwind")}


@dataclass
class Scored:
    project: object
    lead: object
    vendors: dict[str, int]
    criteria: dict[str, int]

    @property
    def pid(self) -> int:
        return self.project.id


def scored_board(factory, sheet, *, close=False) -> Scored:
    """A rollout whose three reviewers scored ``sheet`` and submitted (P(first) is shown)."""
    lead = factory.user("lead", name="Ana Popescu")
    project = factory.project(lead)
    access = projects.Access(project=project, user=lead, role=Role.LEAD)
    reviewers = [
        factory.member(project, factory.user(name), Role.REVIEWER, dept)
        for name, dept in (("mihai", "Sales"), ("jonas", "IT"), ("ines", "Finance"))
    ]
    vendors = {name: service.create_vendor(db.session, access, name=name).id for name in sheet}
    criteria = {
        name: service.create_criterion(db.session, access, name=name, weight=w).id
        for name, w in WEIGHTS.items()
    }
    service.set_round_state(db.session, access, action="open", two_envelopes=False)
    db.session.commit()
    for r, user in enumerate(reviewers):
        mine = projects.Access(project=project, user=user, role=Role.REVIEWER)
        service.declare_conflicts(db.session, mine, [])
        db.session.commit()
        mine = projects.load_access(db.session, project.id, user)
        service.put_scores(
            db.session,
            mine,
            [
                service.ScoreInput(vendors[v], criteria[c], scores[r], "")
                for v, by_c in sheet.items()
                for c, scores in by_c.items()
            ],
        )
        service.submit_scoresheet(db.session, mine)
        db.session.commit()
    if close:
        service.set_round_state(db.session, access, action="close")
        db.session.commit()
    return Scored(project, lead, vendors, criteria)


def pdf_text(api, pid: int) -> str:
    pdf = api.get(f"/projects/{pid}/vendor-evaluation.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    return " ".join(text.split())  # lines broken by the layout read as one


def page_text(client, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200
    return html.unescape(resp.get_data(as_text=True))


def pct(p: float) -> str:
    return fixed(p * 100, 1) + "%"


# --- P(first) ---------------------------------------------------------------------------------


def test_identical_vendors_share_p_first_through_the_api_and_the_pdf(factory, api_as):
    board = scored_board(factory, TWINS)
    api = api_as(board.lead)
    body = api.get(f"/projects/{board.pid}/vendor-evaluation").json
    c, f, n = (str(board.vendors[name]) for name in ("Contoso", "Fabrikam", "Northwind"))
    ranks = {v["name"]: v["rank"] for v in body["vendors"]}
    assert ranks == {"Contoso": 1, "Fabrikam": 1, "Northwind": 3}
    assert body["first_place"] == [board.vendors["Contoso"], board.vendors["Fabrikam"]]
    p = body["monte_carlo"]
    assert p[c] == p[f] and 0 < p[n] < 1 and p[c] + p[f] + p[n] == pytest.approx(1.0)
    pure = scoring.monte_carlo(
        service.load_board(db.session, board.pid), draws=service.MC_DRAWS, seed=service.MC_SEED
    )
    assert p == {str(k): v for k, v in pure.items()}
    # identical on every criterion: no change of any weight separates them
    assert body["tie_breaks"] == {str(cid): {c: None, f: None} for cid in board.criteria.values()}
    text = pdf_text(api, board.pid)
    assert "Contoso and Fabrikam are tied for first." in text
    for vendor in (c, f, n):
        assert pct(p[vendor]) in text


def test_a_three_way_tie_through_the_api_and_the_page(factory, api_as, client):
    board = scored_board(factory, TRIPLETS)
    body = api_as(board.lead).get(f"/projects/{board.pid}/vendor-evaluation").json
    assert body["monte_carlo"] == {str(v): pytest.approx(1 / 3) for v in board.vendors.values()}
    assert len(set(body["monte_carlo"].values())) == 1
    login(client, "lead")
    text = page_text(client, f"/projects/{board.pid}/vendors/evaluation")
    assert "Contoso, Fabrikam and Northwind are tied for first." in text
    assert text.count("33.3%") == 3


def test_an_evaluation_cached_before_ties_were_shared_is_not_served(factory, api_as):
    """The cause of 100 % and 0 % for identical vendors: until ties were shared in every draw,
    the vendor listed first took them, and evaluations cached then were served as long as the
    board did not change (for ever, once the round is closed). The cache now names the format
    that computed it; a row of an earlier format is computed again."""
    board = scored_board(factory, TWINS, close=True)
    c, f = str(board.vendors["Contoso"]), str(board.vendors["Fabrikam"])
    old = service.compute(service.load_board(db.session, board.pid))
    for key in ("first_place", "tie_breaks"):  # what the old format did not have
        old.pop(key)
    old["monte_carlo"] |= {c: old["monte_carlo"][c] * 2, f: 0.0}  # the tie to the first
    text = json.dumps(old)
    db.session.add(
        EvaluationCache(
            project_id=board.pid,
            variant=service.cache_variant(False, results_format=1),
            revision=board_revision(db.session, board.pid),
            body=text,
            summary=text,
        )
    )
    db.session.commit()
    body = api_as(board.lead).get(f"/projects/{board.pid}/vendor-evaluation").json
    assert body["monte_carlo"][c] == body["monte_carlo"][f] > 0
    assert body["first_place"] == [board.vendors["Contoso"], board.vendors["Fabrikam"]]
    variants = db.session.scalars(
        select(EvaluationCache.variant).where(EvaluationCache.project_id == board.pid)
    ).all()
    assert sorted(variants) == ["full", f"full.{service.RESULTS_FORMAT}"]


def test_cache_variants_fit_their_column():
    assert service.cache_variant(True) == f"technical.{service.RESULTS_FORMAT}"
    assert (
        len(service.cache_variant(True, results_format=99)) <= EvaluationCache.variant.type.length
    )


# --- the tie said as a tie, and what would break it ------------------------------------------


def test_tie_breaks_in_the_api_on_the_page_and_in_the_pdf(factory, api_as, client):
    board = scored_board(factory, LEVEL)
    api = api_as(board.lead)
    body = api.get(f"/projects/{board.pid}/vendor-evaluation").json
    c, f = board.vendors["Contoso"], board.vendors["Fabrikam"]
    assert body["first_place"] == [c, f]
    crit = {name: str(cid) for name, cid in board.criteria.items()}
    tb = body["tie_breaks"]
    # Functionality (50 %): Contoso 100 → its line rises 40 points per unit of the share,
    # Fabrikam's stays at 80, Northwind's falls 20: a rise favours Contoso up to 100 %, a cut
    # Fabrikam down to 0 % (where Northwind meets it at 80)
    assert tb[crit["Functionality"]][str(c)] == {
        "direction": 1,
        "up_to_pp": pytest.approx(50.0),
        "share_pp": pytest.approx(50.0),
    }
    assert tb[crit["Functionality"]][str(f)]["up_to_pp"] == pytest.approx(-50.0)
    # Security (1/3): Contoso's 60 falls 30 per unit, Fabrikam's 80 stays: a cut favours
    # Contoso (to 0 %), a rise Fabrikam (to 100 %, where Northwind's rising line meets it)
    assert tb[crit["Security"]][str(c)]["up_to_pp"] == pytest.approx(-100 / 3)
    assert tb[crit["Security"]][str(f)]["up_to_pp"] == pytest.approx(200 / 3)
    assert list(tb[crit["Usability"]]) == [str(c), str(f)]  # in the ranking's order
    assert body["sensitivity"] == {cid: None for cid in crit.values()}
    pure = scoring.tie_breaks(service.load_board(db.session, board.pid))
    assert tb == {
        str(k): {str(v): b and b.__dict__ for v, b in row.items()} for k, row in pure.items()
    }
    cells = [
        ("a rise, up to " if b["direction"] > 0 else "a cut, down to ")
        + fixed(b["up_to_pp"], 2, sign=True)
        + " pp"
        for row in tb.values()
        for b in row.values()
    ]
    assert len(cells) == 6 and "a rise, up to +50.00 pp" in cells
    login(client, "lead")
    page = page_text(client, f"/projects/{board.pid}/vendors/evaluation")
    assert page.count("Contoso and Fabrikam are tied for first.") == 2  # the notice, the table
    assert "before a vendor outside the tie for first wins" in page
    for cell in cells:
        assert cell in page, cell
    text = pdf_text(api, board.pid)
    assert "Contoso and Fabrikam are tied for first." in text
    for cell in cells:
        assert cell in text, cell


def test_no_tie_no_tie_sentence(factory, api_as, client):
    sheet = dict(LEVEL, Contoso={**LEVEL["Contoso"], "Security": (5, 5, 5)})
    board = scored_board(factory, sheet)
    body = api_as(board.lead).get(f"/projects/{board.pid}/vendor-evaluation").json
    assert body["first_place"] == [board.vendors["Contoso"]] and body["tie_breaks"] == {}
    login(client, "lead")
    page = page_text(client, f"/projects/{board.pid}/vendors/evaluation")
    assert "tied for first" not in page
    decision = page_text(client, f"/projects/{board.pid}/vendors/decision")
    assert "The board ranks Contoso first." in decision
    assert "tied for first" not in decision and "rank 1, tied" not in decision


def test_new_winners_that_overtake_together_are_named_together(factory, api_as, client):
    # Contoso (5, 3, 3) = 80 leads; Fabrikam and Northwind (4, 4, 3) total 76.67 each. As
    # Functionality's share falls from 50 % both gain 33.3 points per unit on Contoso: both
    # meet it at 40 % (76 each) and lead together past it
    same = {"Functionality": (4,) * 3, "Security": (4,) * 3, "Usability": (3,) * 3}
    sheet = {"Contoso": LEVEL["Contoso"], "Fabrikam": same, "Northwind": same}
    board = scored_board(factory, sheet)
    body = api_as(board.lead).get(f"/projects/{board.pid}/vendor-evaluation").json
    s = body["sensitivity"][str(board.criteria["Functionality"])]
    assert s["change_pp"] == pytest.approx(-10.0)
    assert s["new_winners"] == [board.vendors["Fabrikam"], board.vendors["Northwind"]]
    assert s["new_winner"] == board.vendors["Fabrikam"]  # the field as before
    login(client, "lead")
    page = page_text(client, f"/projects/{board.pid}/vendors/evaluation")
    assert "Fabrikam and Northwind, tied" in page


def test_the_decision_page_says_a_tie_as_a_tie(factory, client):
    board = scored_board(factory, LEVEL)
    login(client, "lead")
    page = page_text(client, f"/projects/{board.pid}/vendors/decision")
    assert "Contoso and Fabrikam are tied for first." in page
    assert "ranks Contoso first" not in page
    assert "Contoso — rank 1, tied" in page and "Fabrikam — rank 1, tied" in page
    assert "Northwind — rank 3<" in page


def test_vendor_names_in_the_tie_sentence_are_escaped(factory, client):
    sheet = {"<b>Contoso</b>": LEVEL["Contoso"], "Fabrikam": LEVEL["Fabrikam"]}
    board = scored_board(factory, sheet)
    login(client, "lead")
    raw = client.get(f"/projects/{board.pid}/vendors/evaluation").get_data(as_text=True)
    assert "&lt;b&gt;Contoso&lt;/b&gt; and Fabrikam are tied for first." in raw
    assert "<b>Contoso</b>" not in raw


# --- the random index named ------------------------------------------------------------------


def _judge(api, board: Scored):
    a, b, c = board.criteria.values()
    comparisons = [
        {"a": a, "b": b, "value": "3"},
        {"a": a, "b": c, "value": "5"},
        {"a": b, "b": c, "value": "1"},  # not quite consistent: CR > 0
    ]
    return api.put(f"/projects/{board.pid}/ahp", {"comparisons": comparisons})


def test_the_ahp_result_names_its_random_index_in_the_api_and_on_the_page(factory, api_as, client):
    lead = factory.user("lead")
    project = factory.project(lead)
    access = projects.Access(project=project, user=lead, role=Role.LEAD)
    criteria = {
        name: service.create_criterion(db.session, access, name=name, weight=w).id
        for name, w in WEIGHTS.items()
    }
    db.session.commit()
    board = Scored(project, lead, {}, criteria)
    resp = _judge(api_as(lead), board)
    assert resp.status_code == 200
    ri = resp.json["random_index"]
    assert (
        ri["source"]
        == "Saaty (1980), The Analytic Hierarchy Process"
        == scoring.RANDOM_INDEX_SOURCE
    )
    assert (ri["criteria"], ri["value"]) == (3, 0.58)
    assert "Alonso & Lamata 2006" in ri["note"]
    cr = resp.json["consistency_ratio"]
    assert cr > 0 and cr == pytest.approx(scoring.ahp([[1, 3, 5], [1 / 3, 1, 1], [1 / 5, 1, 1]]).cr)
    login(client, "lead")
    url = f"/projects/{project.id}/vendors/ahp"
    a, b, c = criteria.values()
    form = {"csrf_token": csrf_token(client, url), f"p_{a}_{b}": "3", f"p_{a}_{c}": "5"}
    form[f"p_{b}_{c}"] = "1"
    page = html.unescape(client.post(url, data=form).get_data(as_text=True))
    assert "random index for 3 criteria, 0.58, from the table of Saaty (1980)" in page
    assert "Alonso & Lamata 2006 give about 0.52" in page
    assert fixed(cr, 3) in page


# --- the PDF's own sentences -------------------------------------------------------------------


def test_the_pdf_recommendation_and_random_index(factory, api_as):
    board = scored_board(factory, LEVEL)
    api = api_as(board.lead)
    assert _judge(api, board).status_code == 200
    text = pdf_text(api, board.pid)
    recommendation = text[text.index("Recommendation") :]
    assert "Contoso and Fabrikam are tied for first." in recommendation
    assert "leading vendor is Contoso" not in text
    assert "random index for 3 criteria, 0.58, from the table of Saaty (1980)" in text
    assert "Alonso & Lamata 2006 give about 0.52" in text


def test_the_pdf_names_new_winners_together(factory, api_as):
    same = {"Functionality": (4,) * 3, "Security": (4,) * 3, "Usability": (3,) * 3}
    board = scored_board(
        factory, {"Contoso": LEVEL["Contoso"], "Fabrikam": same, "Northwind": same}
    )
    assert "Fabrikam and Northwind, tied" in pdf_text(api_as(board.lead), board.pid)
