"""The design review as a PDF: rendered for real and read back with pypdf (metadata, the
board's review with its disagreement called out, the signature with name, meaning and UTC
time, the version's SHA-256, text in every script, no user markup), in a fixed number of
statements whatever the design's size, and as a report job from the design's pages and from
the API, blind as the board's scores are.

Under PLANNER_ENV=test report jobs run at once, in the caller. The routes need
``planner.design.report_views`` imported by the app factory.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from planner.core import jobs
from planner.core.errors import Conflict
from planner.core.permissions import Role
from planner.design import service as design
from planner.design.report import REVIEW_REPORT, report_pdf
from planner.extensions import db
from planner.requirements import service as requirements
from tests.conftest import csrf_token, login
from tests.core.test_reports import embedded_chars
from tests.factories import Factory
from tests.report_flow import (
    documented_like_a_report,
    fetch_through_the_api,
    job_count,
    prepare_on_the_page,
    render_measured,
)

RO = "Înregistrarea reclamațiilor și urmărirea lor până la închidere"
ZH = "客户投诉在48小时内处理"
HE = "ניהול תלונות לקוחות"
UNCOVERED_MUST = "Oferte trimise clienților în aceeași zi, fără întârzieri"
CONDITIONS = "Doar după migrarea datelor de test în ținta aleasă"
COMMENT_ZH = "集成风险较高"
HOSTILE = (
    "**Soluție standard**, adaptată procesului de vânzări.\n\n"
    "<script>alert('pwned')</script>\n\n"
    "<img src=file:///etc/passwd>\n\n"
    "![secret](file:///etc/passwd)\n"
)
# Feasibility 5/2/5 (spread 3: the board disagrees), cost 4/3/4, risk 4/4/3.
SCORES = {"mihai": (5, 4, 4), "jonas": (2, 3, 4), "ioana": (5, 4, 3)}


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _req(access, title: str, priority: str = "should"):
    return requirements.create_requirement(
        db.session,
        access,
        title=title,
        type="functional",
        priority=priority,
        status="accepted",
    )


def _review(version, people, names) -> None:
    """The reviewers ``names`` of ``people`` (their accesses) submit their reviews."""
    inds = design.indicators(db.session, version.project_id)
    comments = {"jonas": (COMMENT_ZH, "", ""), "ioana": ("", "", "Riscul e ținut sub control")}
    for name in names:
        row = SCORES[name]
        notes = comments.get(name, ("", "", ""))
        design.save_scores(
            db.session,
            people[name],
            version,
            [design.ScoreInput(i.id, s, c) for i, s, c in zip(inds, row, notes, strict=True)],
            submit=True,
        )
    db.session.commit()


def _approve(version, executive) -> None:
    design.approve(
        db.session,
        executive,
        version,
        shown_digest=design.digest_shown(version),
        meaning="approved_with_conditions",
        conditions=CONDITIONS,
        password=Factory.PASSWORD,
    )
    db.session.commit()


def _rollout(factory, *, submitted=("mihai", "jonas", "ioana"), approved: bool = True) -> dict:
    """A multilingual rollout: four requirements (two musts, one left uncovered), a design
    with Markdown texts and two modules, version 1 submitted, the board of three reviewing
    it (those ``submitted``), a viewer, and an executive approving it with conditions."""
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="CRM rollout — Carpathia")
    access = factory.lead_access(project)
    complaints = _req(access, RO, "must")
    chinese = _req(access, ZH)
    hebrew = _req(access, HE, "could")
    _req(access, UNCOVERED_MUST, "must")
    design.update_design(
        db.session,
        access,
        version=None,
        solution_kind="off_the_shelf",
        summary=HOSTILE,
        processes=f"- {ZH}\n- {RO}",
        risks=f"{HE}: *migrarea datelor*",
    )
    design.add_module(
        db.session,
        access,
        name="Servicii și reclamații",
        description="Fluxul de **reclamații**",
        requirement_ids=[complaints.id, chinese.id],
    )
    design.add_module(db.session, access, name="מכירות", requirement_ids=[hebrew.id])
    version = design.submit_version(db.session, access)
    db.session.commit()
    people = {
        name: factory.member(project, factory.user(name, name=full), role, dept)
        for name, full, role, dept in (
            ("mihai", "Mihai Ionescu", Role.REVIEWER, "Sales"),
            ("jonas", "Jonas Becker", Role.REVIEWER, "IT"),
            ("ioana", "Ioana Dumitrescu", Role.REVIEWER, "Legal"),
            ("wei", "Li Wei", Role.EXECUTIVE, None),
            ("vera", "Vera Stan", Role.VIEWER, None),
        )
    }
    accesses = {n: factory.access(project, u) for n, u in people.items()}
    _review(version, accesses, submitted)
    if approved:
        _approve(version, accesses["wei"])
    return {"project": project, "lead": lead, "version": version, **people}


@pytest.fixture
def rollout(factory):
    return _rollout(factory)


# --- the document -------------------------------------------------------------------------


def test_the_review_reads_back_with_every_script_and_no_user_markup(rollout, factory):
    access = factory.lead_access(rollout["project"])
    stages: list[tuple[int, str]] = []
    started = time.perf_counter()
    pdf = report_pdf(db.session, access, lambda p, s: stages.append((p, s)))
    seconds = time.perf_counter() - started
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Design review — CRM rollout — Carpathia, version 1"
    assert reader.metadata.author == "Ana Popescu"
    n = len(reader.pages)
    assert n >= 1
    assert [p for p, _ in stages] == [10, 40, 85]
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = _flat(text)
    print(f"design review: {n} pages in {seconds:.2f} s")

    # the cover: the version, who submitted it, where it stands, its SHA-256
    assert "Solution design, version 1" in text and "Submitted by Ana Popescu at" in text
    assert re.search(r"Status:\s*approved", text)
    version = db.session.get(type(rollout["version"]), rollout["version"].id)
    assert version.digest in flat
    # the design: kind of solution, Markdown texts, modules with key and revision
    assert "Off-the-shelf" in text and _flat("Fit with the organisation") not in flat
    assert "REQ-001 revision 1" in text and "REQ-003 revision 1" in text
    assert _flat("Servicii și reclamații") in flat
    # what no module covers, the must among it
    uncovered = flat.split("Requirementsnomodulecovers")[-1]
    assert "REQ-004" in uncovered and _flat(UNCOVERED_MUST) in uncovered
    assert "Musthave" in uncovered
    # the board's review: indicators, weights, means, spreads, scores and comments
    for name in ("Feasibility", "Cost-effectiveness", "Risk control"):
        assert name in text
    assert "4.00" in text and "3.67" in text  # the means (Feasibility 4, the others 11/3)
    assert "3 of 3 reviewers submitted." in text
    assert re.search(r"Weighted total: \d+\.\d of 100\.", text)
    assert "Kendall's W" in text
    assert "The board disagrees" in text and "disagree" in text
    callout = text.split("The board disagrees (scores 2 or more apart) on:")[1].split(").")[0]
    assert "Feasibility" in callout and "spread 3" in callout
    assert "Cost-effectiveness" not in callout
    assert "Jonas Becker: 2" in text and "Mihai Ionescu: 5" in text
    assert _flat(COMMENT_ZH) in flat and _flat("Riscul e ținut sub control") in flat
    # the signature: printed name, role, meaning and UTC time together, and the conditions
    signature = re.search(
        r"Li Wei \(Executive\) — approved with conditions — "
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC",
        text,
    )
    assert signature, text[-600:]
    assert _flat(CONDITIONS) in flat and "Signed exactly this version" in text
    # every script, as text a reader can search and copy, drawn with real glyphs
    assert _flat(RO) in flat and _flat(ZH) in flat
    found = set(re.findall(r"\w+", text))
    assert set(HE.split()) <= found | {w[::-1] for w in found}  # RTL may come out visual-order
    needed = {ch for s in (RO, ZH, HE, UNCOVERED_MUST) for ch in s if not ch.isspace()}
    assert needed - embedded_chars(reader) == set()
    # the Markdown is sanitised: its text stays, its markup and what it points at do not
    assert "Soluție standard" in text and "**" not in text
    assert "<script>" not in text and "alert" not in text and "pwned" not in text
    assert "passwd" not in text


def test_an_unsigned_provisional_review_says_so(factory):
    r = _rollout(factory, submitted=("mihai",), approved=False)
    text = _text(report_pdf(db.session, factory.lead_access(r["project"])))
    assert re.search(r"Status:\s*under review", text)
    assert "Provisional: 1 of 3 reviewers have submitted their review." in text
    assert "No executive has signed this version yet." in text
    assert "Mihai Ionescu: 5" in text and "Jonas Becker" not in text  # drafts count nowhere


def test_no_submitted_version_is_a_clear_conflict(factory, api_as, client, login_as):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="Fresh rollout")
    with pytest.raises(Conflict, match="No version of the solution design"):
        report_pdf(db.session, factory.lead_access(project))
    resp = api_as(lead).get(f"/projects/{project.id}/design/review.pdf")
    assert resp.status_code == 409 and "No version" in resp.json["detail"]
    login_as("ana")
    assert client.get(f"/projects/{project.id}/design/review.pdf").status_code == 409
    assert job_count() == 0


def _design_of(factory, n: int):
    """A rollout of ``n`` requirements covered by three modules, version 1 submitted, three
    reviewers' reviews and an executive's approval."""
    project = factory.project(factory.user(f"lead{n}", name=f"Lead {n}"), name=f"Rollout {n}")
    access = factory.lead_access(project)
    reqs = [_req(access, f"Cerință {i} — 要求", ("must", "should")[i % 2]) for i in range(n)]
    design.update_design(
        db.session, access, version=None, solution_kind="custom", summary=f"**{n}** {RO}"
    )
    for m in range(3):
        design.add_module(
            db.session,
            access,
            name=f"Module {m}",
            description=f"Modulul *{m}*",
            requirement_ids=[r.id for r in reqs[m::3][:-1]],  # one of each third left out
        )
    version = design.submit_version(db.session, access)
    db.session.commit()
    people = {
        name: factory.access(
            project, factory.member(project, factory.user(f"{name}{n}", name=name), role, dept)
        )
        for name, role, dept in (
            ("mihai", Role.REVIEWER, "Sales"),
            ("jonas", Role.REVIEWER, "IT"),
            ("ioana", Role.REVIEWER, "Legal"),
            ("wei", Role.EXECUTIVE, None),
        )
    }
    _review(version, people, ("mihai", "jonas", "ioana"))
    _approve(version, people["wei"])
    return project


def test_the_statements_do_not_grow_with_the_design(factory):
    def statements(project) -> tuple[int, int, float]:
        return render_measured(report_pdf, factory, project)

    small, small_pages, _ = statements(_design_of(factory, 5))
    large, large_pages, seconds = statements(_design_of(factory, 25))
    assert small == large <= 10, (small, large)
    assert large_pages >= small_pages
    print(f"25 requirements: {large_pages} pages in {seconds:.2f} s, {large} statements")


# --- the pages and the API ----------------------------------------------------------------


def test_the_page_offers_then_prepares_then_serves_the_review(rollout, client, login_as):
    login_as("ana")
    pid = rollout["project"].id
    pdf = prepare_on_the_page(client, f"/projects/{pid}/design/review.pdf", pid, "Design review")
    assert "design-review-" in pdf.headers["Content-Disposition"]


def test_the_api_answers_202_while_rendering_then_200_with_the_file(rollout, api_as, monkeypatch):
    api = api_as(rollout["lead"])
    path = f"/projects/{rollout['project'].id}/design/review.pdf"
    pdf = fetch_through_the_api(api, path, monkeypatch, REVIEW_REPORT.name)
    # the board has submitted: a viewer and a reviewer get the same render, not a new one
    for who in ("vera", "mihai", "wei"):
        same = api_as(rollout[who]).get(path)
        assert same.status_code == 200 and same.data == pdf.data, who
    assert job_count() == 1
    documented_like_a_report(api, path, "blind")


def test_the_review_is_blind_until_the_board_submitted(factory, api_as, client):
    r = _rollout(factory, submitted=("mihai", "jonas"))
    pid = r["project"].id
    path = f"/projects/{pid}/design/review.pdf"
    lead = api_as(r["lead"]).get(path)
    assert lead.status_code == 200
    job_id = db.session.scalar(select(jobs.ReportJob.id))
    # a reviewer who has not submitted and a viewer before the whole board has: 403, and the
    # lead's job is not theirs to read (404, as a job that does not exist)
    for who in ("ioana", "vera"):
        api = api_as(r[who])
        assert api.get(path).status_code == 403, who
        assert api.get(f"/projects/{pid}/reports/{job_id}").status_code == 404, who
        assert api.get(f"/projects/{pid}/reports/{job_id}/file").status_code == 404, who
    assert login(client, "vera").status_code == 302
    assert client.get(path).status_code == 403
    assert client.get(f"/projects/{pid}/reports/{job_id}/file").status_code == 404
    # a reviewer who submitted reads the board's scores, and so the report
    assert api_as(r["mihai"]).get(path).data == lead.data
    assert job_count() == 1
    # the last reviewer submits: the viewer gets it, rendered again with the new scores
    version = design.latest_version(db.session, pid)
    _review(version, {"ioana": factory.access(r["project"], r["ioana"])}, ("ioana",))
    viewer = api_as(r["vera"]).get(path)
    assert viewer.status_code == 200 and viewer.data != lead.data and job_count() == 2
    assert "3 of 3 reviewers submitted." in _text(viewer.data)


def test_a_non_member_gets_404_from_the_page_and_the_api(rollout, factory, client, api_as):
    olga = factory.user("olga")
    pid = rollout["project"].id
    assert login(client, "olga").status_code == 302
    assert client.get(f"/projects/{pid}/design/review.pdf").status_code == 404
    token = csrf_token(client, "/profile")
    start = client.post(f"/projects/{pid}/design/review.pdf/start", data={"csrf_token": token})
    assert start.status_code == 404
    assert api_as(olga).get(f"/projects/{pid}/design/review.pdf").status_code == 404
    assert job_count() == 0
