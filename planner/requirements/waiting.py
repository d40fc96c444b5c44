"""What waits for someone in the requirements phase, for their "waiting on you" list
(registered with :func:`planner.projects.phases.register_waiting`)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from planner.projects.models import Department, Membership, Project
from planner.projects.phases import Waiting, register_waiting
from planner.requirements.intake_models import Questionnaire, Response, ResponseStatus


@register_waiting
def questionnaires_to_answer(session, user) -> list[Waiting]:
    """A department's member: its open questionnaire, until they submit their answers (one
    statement, whatever the rollouts)."""
    rows = session.execute(
        select(Project.id, Project.name, Questionnaire.id, Department.name)
        .join(Membership, Membership.project_id == Project.id)
        .join(
            Questionnaire,
            (Questionnaire.project_id == Project.id)
            & (Questionnaire.department_id == Membership.department_id),
        )
        .join(Department, Department.id == Questionnaire.department_id)
        .outerjoin(
            Response,
            (Response.questionnaire_id == Questionnaire.id)
            & (Response.user_id == user.id)
            & (Response.status == ResponseStatus.SUBMITTED),
        )
        .where(
            Membership.user_id == user.id,
            Project.archived.is_(False),
            Questionnaire.open.is_(True),
            Response.id.is_(None),
        )
    ).all()
    return [
        Waiting(
            pid,
            name,
            _("Answer the questionnaire of %(department)s", department=dept),
            "requirements.answer",
            {"project_id": pid, "questionnaire_id": qid},
        )
        for pid, name, qid, dept in rows
    ]
