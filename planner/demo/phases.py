"""The demo rollout's phases as work done: the departments' interviews and the requirements
they led to, the solution design, the passed phases with their files and gates, and an audit
trail spread over the weeks the work took."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core.audit import AuditEvent
from planner.core.db import utcnow
from planner.demo.content import (
    DEMO_PASSWORD,
    DESIGN_MODULES,
    INTERVIEWS,
    PHASE_FILES,
    REQUIREMENTS,
)
from planner.projects import service as projects
from planner.projects.phases import PhaseStatus


def interviews(session, access, depts, users, today) -> None:
    """The intake as it went: the departments' questionnaires, the head of sales' answers
    submitted, the head of customer service's still a draft, an interview with each
    department."""
    from planner.requirements import intake

    intake.create_default_questionnaires(session, access)
    for dept, who, role, notes in INTERVIEWS:
        intake.add_interview(
            session,
            access,
            department_id=depts[dept].id,
            interviewee=who,
            role=role,
            held_on=today - timedelta(days=60),
            notes=notes,
        )
    for username, submit in (("sales", True), ("service", False)):
        member = projects.load_access(session, access.project.id, users[username])
        q = intake.own_questionnaire(session, member)
        answers = []
        for question in q.questions:
            if question.kind == intake.QuestionKind.IMPORTANCE:
                answers.append(intake.AnswerInput(question.id, importance=5))
            elif question.options:
                answers.append(intake.AnswerInput(question.id, choices=(question.options[0],)))
            else:
                answers.append(
                    intake.AnswerInput(question.id, text="Every call and e-mail on the card.")
                )
        intake.save_answers(session, member, q, answers, submit=submit)


def requirements_work(session, access, depts, made, users) -> None:
    """The register as the requirements phase left it: accepted, traced to the goals and the
    departments, one requirement revised after the board's review."""
    from planner.requirements import service as requirements

    owners = {"Sales": "sales", "Customer service": "service", "Legal": "legal", "IT": "it"}
    for title, kind, priority, module, dept, served, criterion, text in REQUIREMENTS:
        owner = users.get(owners.get(dept, "lead"))
        req = requirements.create_requirement(
            session,
            access,
            title=title,
            description=text,
            type=kind,
            priority=priority,
            module=module,
            acceptance_criterion=criterion,
            status="proposed",
            owner_id=owner.id if owner else None,
            goal_ids=[made[i].id for i in served],
            department_ids=[depts[dept].id],
        )
        requirements.update_requirement(
            session,
            access,
            req,
            version=None,
            **{**_values(req), "status": "accepted" if priority != "could" else "deferred"},
        )


def design_work(session, access, users) -> None:
    """The solution design as the board left it: an off-the-shelf CRM in three modules that
    cover every accepted requirement, version 1 reviewed by the board and approved by the
    executive sponsor."""
    from planner.design import service as design
    from planner.requirements import service as requirements

    design.update_design(
        session,
        access,
        version=None,
        solution_kind="off_the_shelf",
        summary="An off-the-shelf CRM, customised in three modules; marketing follows later.",
        processes="Lead to order; complaint to resolution; the weekly pipeline review.",
        integrations="Accounting (invoices on the card), e-mail, telephony.",
        organisational_fit="Managers see their own clients; the heads of department see all.",
        growth_plans="Marketing campaigns in the second year; a second sales office.",
        cost_estimate="Licences for 40 users, the vendor's setup and two months of support.",
        risks="Staff resistance (training early); messy Bitrix24 data (clean before moving).",
    )
    by_module: dict[str, list[int]] = {}
    for r in requirements.register_page(
        session, access.project.id, requirements.RegisterQuery(), 1, 1000
    ).items:
        if r.status.value == "accepted":
            by_module.setdefault(r.module, []).append(r.id)
    for name, text, modules in DESIGN_MODULES:
        design.add_module(
            session,
            access,
            name=name,
            description=text,
            requirement_ids=[rid for m in modules for rid in by_module.get(m, [])],
        )
    version = design.submit_version(session, access)
    indicators = design.indicators(session, access.project.id)
    for username, scores in (("sales", (5, 4, 4)), ("it", (4, 3, 2)), ("legal", (4, 4, 5))):
        member = projects.load_access(session, access.project.id, users[username])
        design.save_scores(
            session,
            member,
            version,
            [design.ScoreInput(i.id, s) for i, s in zip(indicators, scores, strict=True)],
            submit=True,
        )
    ceo = projects.load_access(session, access.project.id, users["ceo"])
    design.approve(
        session,
        ceo,
        version,
        shown_digest=design.digest_shown(version),
        meaning="approved_with_conditions",
        conditions="Marketing's campaign module is designed before the second year starts.",
        password=DEMO_PASSWORD,
    )


def _values(req) -> dict:
    return {
        "title": req.title,
        "description": req.description,
        "type": req.type.value,
        "priority": req.priority.value,
        "module": req.module,
        "acceptance_criterion": req.acceptance_criterion,
        "status": req.status.value,
        "owner_id": req.owner_id,
        "goal_ids": [g.id for g in req.goals],
        "department_ids": [d.id for d in req.departments],
    }


# Files of the phases that are done, as the lead would have kept them.


def passed_phases(session: Session, access: projects.Access, today) -> None:
    """Goals, requirements and design: started, their files kept, their gates passed; the
    vendor selection started. Actual dates as the plan had them."""
    from planner.artifacts import service as artifacts

    dates = {"goals": (-84, -63), "requirements": (-63, -35), "design": (-42, -21)}
    for key, (start, end) in dates.items():
        ph = projects.get_phase(session, access.project.id, key)
        if ph.status == PhaseStatus.NOT_STARTED:
            projects.start_phase(session, access, ph)
        title, filename, text = PHASE_FILES[key]
        artifacts.upload(
            session,
            access,
            title=title,
            phase_key=key,
            filename=filename,
            data=text.encode(),
            max_bytes=1_000_000,
        )
        projects.request_gate(session, access, ph)
        projects.decide_gate(session, access, ph, outcome="pass", comment="Reviewed by the board")
        ph.actual_start = today + timedelta(days=start)
        ph.actual_end = today + timedelta(days=end)


def spread_history(session: Session, project_id: int, since) -> None:
    """Date the rollout's audit events over the weeks the story took, in their order (the demo
    is made in one go; its trail should read as twelve weeks of work). Demo data only: a
    direct UPDATE, as the audit trail's ORM guard refuses changes to events."""
    from datetime import datetime, time

    from sqlalchemy import update

    ids = list(
        session.scalars(
            select(AuditEvent.id).where(AuditEvent.project_id == project_id).order_by(AuditEvent.id)
        )
    )
    if not ids:
        return
    start = datetime.combine(since, time(9, 0), tzinfo=utcnow().tzinfo)
    span = utcnow() - start
    session.execute(  # one executemany, by primary key
        update(AuditEvent),
        [{"id": event_id, "at": start + span * (i / len(ids))} for i, event_id in enumerate(ids)],
    )
