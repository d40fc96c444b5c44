"""The specification as a PDF: rendered for real and read back with pypdf (metadata, the cover,
the contents with their page numbers, the running footer, the sections with what they draw,
the signature page, PDF/A-3b with the version's canonical JSON and a ReqIF export embedded,
every font embedded, text in every script, no user markup and nothing fetched), in a fixed
number of statements whatever the specification's size, and as a report job from the
specification's pages and from the API.

Under PLANNER_ENV=test report jobs run at once, in the caller. The routes need
``planner.spec.report_views`` imported by the app factory.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from datetime import date

import pytest
from pypdf import PdfReader
from reqif.parser import ReqIFParser

from planner.core import approvals
from planner.core import reports as core_reports
from planner.core.errors import Conflict
from planner.core.permissions import Role
from planner.extensions import db
from planner.goals import service as goals
from planner.requirements import service as requirements
from planner.spec import service as spec
from planner.spec import signoff
from planner.spec.report import SPEC_REPORT, report_pdf
from tests.conftest import csrf_token, login
from tests.core.test_reports import Listener, embedded_chars
from tests.factories import Factory
from tests.report_flow import (
    documented_like_a_report,
    fetch_through_the_api,
    job_count,
    prepare_on_the_page,
    render_measured,
)

# Snippets of the seeds (../shared/seeds): Romanian, Chinese, Hebrew, German; and Russian.
RO_GOAL = (
    "Restricționarea accesului la managerii de date, astfel încât fiecare vede doar clienții lor"
)
RO_CRITERION = "Se lasă capul în orice moment să activeze sau să dezactiveze accesul"
RO_MODULE = "Servicii și reclamații"
ZH = "销售部门可能需要CRM系统能够实时跟踪客户互动记录"
HE = "מערכת זו משמשת לאחסון מידע על לקוחות"
DE = "Für viele Unternehmen ist der Umzug in ein neues CRM ein verantwortungsbewusster Schritt"
DE_SZ = "Die Registrierung einer Software könnte man immer noch schließen"
RU = "Внедрение CRM-системы требует чёткого плана, обучения сотрудников и переноса данных"
CONDITIONS = "Doar după migrarea datelor de test — אחרי ההגירה"
SCRIPTS = (RO_GOAL, RO_CRITERION, RO_MODULE, ZH, HE, DE, DE_SZ, RU)


def _hostile(port: int) -> str:
    """A section's Markdown that tries to make the renderer fetch a file, the network, and
    to attach a file of its own."""
    return (
        "**Definirea scopurilor și obiectivelor**, pe scurt.\n\n"
        "<script>alert('pwned')</script>\n\n"
        '<img src="file:///etc/passwd">\n\n'
        '<link rel="attachment" href="file:///etc/passwd">\n\n'
        f'<a rel="attachment" href="{core_reports.BASE_URL}static/pdf.css">anexă</a>\n\n'
        f"<style>@import url(http://127.0.0.1:{port}/x.css);</style>\n\n"
        f"![secret](http://127.0.0.1:{port}/secret.png)\n\n"
        f'<div style="background: url(http://127.0.0.1:{port}/bg.png)">{RU}</div>\n'
    )


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _req(access, title: str, type_: str, **kw):
    values = {"priority": "should", "status": "accepted", **kw}
    return requirements.create_requirement(db.session, access, title=title, type=type_, **values)


def _section(access, key: str):
    return next(s for s in spec.get_spec(db.session, access).sections if s.key == key)


@pytest.fixture
def listener():
    """A local TCP listener: the renderer must never connect to it."""
    ear = Listener()
    yield ear
    ear.close()


@pytest.fixture
def recorded_fetches(monkeypatch):
    """Every URL the PDF pipeline's locked fetcher is asked for during the test."""
    fetched: list[str] = []
    locked = core_reports._fetcher_class()

    class Recording(locked):  # type: ignore[misc, valid-type]
        def fetch(self, url, headers=None):
            fetched.append(url)
            return super().fetch(url, headers)

    monkeypatch.setattr(core_reports, "_fetcher_class", lambda: Recording)
    return fetched


def _rollout(factory, port: int, *, signoff_stage: str = "signed") -> dict:
    """A multilingual rollout: goals with KPIs, accepted requirements of every kind in two
    modules and none (and a proposed one the version leaves out), the draft's scope written
    in Markdown, a section of the lead's own that tries to fetch things, version 1 submitted,
    and, by ``signoff_stage``: "submitted" (under review), "requested" (up for sign-off) or
    "signed" (signed off by the one executive named, with conditions)."""
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="CRM rollout — Carpathia")
    access = factory.lead_access(project)
    wei = factory.member(project, factory.user("wei", name="Li Wei"), Role.EXECUTIVE, None)
    vera = factory.member(project, factory.user("vera", name="Vera Stan"), Role.VIEWER, None)
    restrict = goals.create_goal(db.session, access, statement=RO_GOAL, department_id=None)
    goals.add_kpi(
        db.session,
        access,
        restrict,
        name="Managers seeing others' clients",
        unit="%",
        baseline=40,
        target=0,
        due_date=date(2027, 3, 31),
    )
    track = goals.create_goal(db.session, access, statement=ZH, department_id=None)
    _req(
        access,
        ZH,
        "functional",
        module=RO_MODULE,
        priority="must",
        acceptance_criterion=RO_CRITERION,
        goal_ids=[track.id, restrict.id],
    )
    _req(access, "Track every customer call", "functional", module="Sales process")
    _req(access, HE, "non_functional", acceptance_criterion=HE)
    _req(access, RU, "integration", module="ERP")
    _req(access, DE, "data", acceptance_criterion=DE_SZ, goal_ids=[restrict.id])
    _req(access, "Access by blocks of information", "security", goal_ids=[restrict.id])
    _req(access, "Nice-to-have dashboard", "functional", status="proposed")
    spec.start(db.session, access)
    scope = _section(access, "scope")
    spec.update_section(
        db.session,
        access,
        scope,
        version=scope.version,
        title=scope.title,
        body=f"## Scopul\n\n*{RO_GOAL}*.\n\n- {ZH}\n- {HE}\n- {DE}",
    )
    spec.add_section(db.session, access, title="Anexă — securitate", body=_hostile(port))
    db.session.commit()  # a request each, as on the pages: the draft is read afresh
    version = spec.submit_version(db.session, access)
    db.session.commit()
    executive = factory.access(project, wei)
    if signoff_stage in ("requested", "signed"):
        signoff.set_signers(db.session, access, [wei.id], in_order=False)
        signoff.put_up_for_signoff(db.session, access, version)
        db.session.commit()
    if signoff_stage == "signed":
        signoff.sign(
            db.session,
            executive,
            version,
            shown_digest=version.digest,
            meaning="approved_with_conditions",
            conditions=CONDITIONS,
            password=Factory.PASSWORD,
        )
        db.session.commit()
    return {"project": project, "lead": lead, "wei": wei, "vera": vera, "version": version}


def _embedded(reader: PdfReader) -> list[dict]:
    """The files embedded in the PDF (its EmbeddedFiles name tree), with their MIME type,
    AFRelationship and bytes."""
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    out = []
    for spec_ref in names[1::2]:
        filespec = spec_ref.get_object()
        stream = filespec["/EF"]["/F"].get_object()
        out.append(
            {
                "name": str(filespec["/UF"]),
                "mime": str(stream["/Subtype"]),
                "relationship": str(filespec.get("/AFRelationship")),
                "data": stream.get_data(),
            }
        )
    return out


def _fonts_not_embedded(reader: PdfReader) -> list[str]:
    """The fonts (descendant fonts included) whose descriptor carries no font program."""
    missing = []
    for page in reader.pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            for f in [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]:
                desc = f.get("/FontDescriptor")
                desc = desc.get_object() if desc is not None else {}
                if not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.append(str(f.get("/BaseFont")))
    return missing


def _page_of(pages: list[str], heading: str) -> int:
    """The number of the first page after the contents whose text has ``heading``."""
    return next(i for i, text in enumerate(pages, start=1) if i > 2 and heading in text)


# --- the document -------------------------------------------------------------------------


def test_the_specification_reads_back_archival_in_every_script_fetching_nothing(
    factory, listener, recorded_fetches
):
    r = _rollout(factory, listener.port)
    access = factory.lead_access(r["project"])
    version = spec.latest_version(db.session, r["project"].id)
    stages: list[tuple[int, str]] = []
    started = time.perf_counter()
    pdf = report_pdf(db.session, access, lambda p, s: stages.append((p, s)))
    seconds = time.perf_counter() - started
    reader = PdfReader(io.BytesIO(pdf))
    n = len(reader.pages)
    print(f"specification: {n} pages in {seconds:.2f} s")
    assert n >= 5  # cover, contents, sections, signatures
    assert [p for p, _ in stages] == [10, 40, 85]
    assert reader.metadata.title == "Technical specification — CRM rollout — Carpathia, version 1"
    assert reader.metadata.author == "Ana Popescu"
    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages)
    flat = _flat(text)

    # the cover: rollout, title, version and status, SHA-256, date; no header nor footer
    cover = pages[0]
    assert "Technical specification" in cover and "CRM rollout — Carpathia" in cover
    assert "Specification v1 — signed off" in cover and re.search(r"Status:\s*signed off", cover)
    assert version.digest in _flat(cover) and "Submitted by Ana Popescu at" in cover
    assert "page 1 of" not in cover
    # the running footer (and header) on every other page
    for i, page in enumerate(pages[1:], start=2):
        assert f"Specification v1 — signed off — page {i} of {n}" in page, i
        assert "CRM rollout — Carpathia" in page, i
    # the contents: each section's title with the page it starts on
    contents = pages[1]
    assert "Contents" in contents and "Technical specification" in contents  # the header
    titles = [s["title"] for s in version.content["sections"]]
    assert len(titles) == 12  # the eleven standard sections and the lead's own
    for i, title in enumerate(titles, start=1):
        found = re.search(rf"{i}\. {re.escape(title)}[\s.]*(\d+)", contents)
        assert found, (title, contents)
        assert int(found[1]) == _page_of(pages, f"{i}. {title}"), title
    signed_at = re.search(r"Signatures[\s.]*(\d+)", contents)
    assert signed_at and int(signed_at[1]) == n  # the signature page is the last

    # the sections draw from the other phases: goals and KPIs, requirements by module with
    # key, revision, title, priority, acceptance criterion and goals, the phases
    assert "Managers seeing others' clients: 40 → 0 % (by 2027-03-31)" in text
    functional = flat.split(_flat("4. Functional requirements"))[2]  # after the contents
    functional = functional.split(_flat("5. Non-functional requirements"))[0]
    assert _flat(RO_MODULE) in functional and "Salesprocess" in functional
    assert "REQ-001" in functional and "revision1" in functional and "Musthave" in functional
    assert _flat(RO_CRITERION) in functional and _flat(ZH) in functional
    # the goals a requirement serves are their numbers in the scope section (G1, G2)
    assert re.search(r"G1\s+" + re.escape(RO_GOAL[:20]), text) and re.search(r"G2\s+", text)
    assert re.search(r"REQ-\d{3} revision 1 · Must have · (G1, G2|G2, G1)", text), functional
    assert "REQ-007" not in flat and "Nice-to-have" not in text  # proposed: not in the version
    assert "No approved solution design yet." in text
    assert "Planned start" in text
    # the signature page: name, role, meaning and UTC time together, conditions, the hash
    signatures = pages[-1]
    assert re.search(
        r"Li Wei \(Executive\) — approved with conditions — "
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC",
        signatures,
    ), signatures
    assert "Doar după migrarea datelor de test" in signatures
    assert version.digest in _flat(signatures) and "Signed exactly this version" in signatures

    # PDF/A-3b, as the XMP metadata says
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp)
    # exactly the two files the app embeds, associated with the document
    files = _embedded(reader)
    assert [f["name"] for f in files] == ["specification-v1.json", "specification-v1.reqif"]
    assert set(reader.attachments) == {"specification-v1.json", "specification-v1.reqif"}
    assert len(reader.trailer["/Root"]["/AF"]) == 2
    data, reqif = files
    assert data["mime"] == "/application/json" and data["relationship"] == "/Data"
    assert data["data"] == approvals.canonical_json(version.content).encode()
    assert hashlib.sha256(data["data"]).hexdigest() == version.digest
    assert reqif["mime"] == "/application/xml" and reqif["relationship"] == "/Supplement"
    bundle = ReqIFParser.parse_from_string(reqif["data"].decode("utf-8"))
    assert bundle.exceptions == []
    (specification,) = bundle.core_content.req_if_content.specifications
    hierarchy = list(bundle.iterate_specification_hierarchy(specification))
    assert len(hierarchy) == 6  # the accepted requirements the version carries
    for page in reader.pages:  # no file attached to a page either
        kinds = [a.get_object()["/Subtype"] for a in page.get("/Annots", [])]
        assert "/FileAttachment" not in kinds

    # every font embedded; every script as text, drawn with real glyphs
    assert _fonts_not_embedded(reader) == []
    for snippet in (RO_GOAL, RO_CRITERION, RO_MODULE, ZH, DE, DE_SZ, RU):
        assert _flat(snippet) in flat, snippet
    found = set(re.findall(r"\w+", text))
    assert set(HE.split()) <= found | {w[::-1] for w in found}  # RTL may come out visual-order
    needed = {ch for s in (*SCRIPTS, CONDITIONS) for ch in s if not ch.isspace()}
    assert needed - embedded_chars(reader) == set()

    # the Markdown is sanitised: its text stays, its markup and what it points at do not
    assert "Definirea scopurilor și obiectivelor" in text and "**" not in text
    assert "<script>" not in text and "alert" not in text and "pwned" not in text
    assert "passwd" not in text and "root:" not in text and "@import" not in text
    assert listener.connections == 0
    assert recorded_fetches == [
        core_reports.BASE_URL + "static/pdf.css",
        core_reports.BASE_URL + "static/pdf-spec.css",
    ]


def test_a_version_under_review_and_one_up_for_signoff_say_so(factory):
    r = _rollout(factory, 9, signoff_stage="submitted")
    access = factory.lead_access(r["project"])
    text = _text(report_pdf(db.session, access))
    assert "Specification v1 — under review — page 2 of" in text
    assert "Not signed yet." in text and "has not been put up for sign-off" in text
    version = spec.latest_version(db.session, r["project"].id)
    signoff.set_signers(db.session, access, [r["wei"].id], in_order=False)
    signoff.put_up_for_signoff(db.session, access, version)
    db.session.commit()
    text = _text(report_pdf(db.session, access))
    assert "Specification v1 — up for sign-off — page 2 of" in text
    assert "Not signed yet." in text and "Waiting for: Li Wei" in text


def test_no_submitted_version_is_a_clear_conflict(factory, api_as, login_as, client):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="Fresh rollout")
    with pytest.raises(Conflict, match="No version of the specification"):
        report_pdf(db.session, factory.lead_access(project))
    resp = api_as(lead).get(f"/projects/{project.id}/spec/report.pdf")
    assert resp.status_code == 409 and "No version" in resp.json["detail"]
    login_as("ana")
    assert client.get(f"/projects/{project.id}/spec/report.pdf").status_code == 409
    assert job_count() == 0


def _spec_of(factory, n: int):
    """A rollout of ``n`` accepted requirements of every kind in three modules, each serving
    two goals, the scope written, version 1 submitted and signed off."""
    lead = factory.user(f"lead{n}", name=f"Lead {n}")
    project = factory.project(lead, name=f"Rollout {n}")
    access = factory.lead_access(project)
    goal_ids = [
        goals.create_goal(db.session, access, statement=f"Goal {i} 目标", department_id=None).id
        for i in range(3)
    ]
    kinds = ("functional", "non_functional", "integration", "data", "security")
    for i in range(n):
        _req(
            access,
            f"Cerință {i} — {DE}",
            kinds[i % 5],
            module=("Sales process", "Reporting", "")[i % 3],
            acceptance_criterion=RO_CRITERION,
            goal_ids=goal_ids[:2],
        )
    spec.start(db.session, access)
    scope = _section(access, "scope")
    spec.update_section(
        db.session, access, scope, version=scope.version, title=scope.title, body=f"**{n}** {HE}"
    )
    version = spec.submit_version(db.session, access)
    executive = factory.member(project, factory.user(f"exec{n}", name="Li Wei"), Role.EXECUTIVE)
    signoff.set_signers(db.session, access, [executive.id], in_order=False)
    signoff.put_up_for_signoff(db.session, access, version)
    db.session.commit()
    signoff.sign(
        db.session,
        factory.access(project, executive),
        version,
        shown_digest=version.digest,
        meaning="approved",
        conditions="",
        password=Factory.PASSWORD,
    )
    db.session.commit()
    return project


def test_the_statements_do_not_grow_with_the_specification(factory):
    def statements(project) -> tuple[int, int, float]:
        return render_measured(report_pdf, factory, project)

    small, small_pages, _ = statements(_spec_of(factory, 5))
    large, large_pages, seconds = statements(_spec_of(factory, 25))
    assert small == large <= 8, (small, large)
    assert large_pages > small_pages
    print(f"25 requirements: {large_pages} pages in {seconds:.2f} s, {large} statements")


# --- the pages and the API ----------------------------------------------------------------


@pytest.fixture
def rollout(factory):
    return _rollout(factory, 9)


def test_the_page_offers_then_prepares_then_serves_the_specification(rollout, client, login_as):
    login_as("ana")
    pid = rollout["project"].id
    pdf = prepare_on_the_page(
        client, f"/projects/{pid}/spec/report.pdf", pid, "Technical specification"
    )
    assert f"specification-{pid}-v1.pdf" in pdf.headers["Content-Disposition"]


def test_the_api_answers_202_while_rendering_then_200_with_the_file(
    rollout, factory, api_as, monkeypatch
):
    api = api_as(rollout["lead"])
    path = f"/projects/{rollout['project'].id}/spec/report.pdf"
    pdf = fetch_through_the_api(api, path, monkeypatch, SPEC_REPORT.name)
    # every member reads the same file: a viewer and an executive get this render
    for who in ("vera", "wei"):
        same = api_as(rollout[who]).get(path)
        assert same.status_code == 200 and same.data == pdf.data, who
    assert job_count() == 1
    documented_like_a_report(api, path, "view")
    # a new version is an audited change: the next request renders it
    access = factory.lead_access(rollout["project"])
    spec.add_section(db.session, access, title="Glosar", body=RU)
    db.session.commit()
    spec.submit_version(db.session, access)
    db.session.commit()
    second = api.get(path)
    assert second.status_code == 200 and job_count() == 2
    assert "Specification v2 — under review — page 2 of" in _text(second.data)


def test_a_non_member_gets_404_from_the_page_and_the_api(rollout, factory, client, api_as):
    olga = factory.user("olga")
    pid = rollout["project"].id
    assert login(client, "olga").status_code == 302
    assert client.get(f"/projects/{pid}/spec/report.pdf").status_code == 404
    token = csrf_token(client, "/profile")
    start = client.post(f"/projects/{pid}/spec/report.pdf/start", data={"csrf_token": token})
    assert start.status_code == 404
    assert api_as(olga).get(f"/projects/{pid}/spec/report.pdf").status_code == 404
    assert job_count() == 0
