"""Factories that build a realistic rollout in one line."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core.accounts.models import User
from planner.core.accounts.service import create_token, create_user
from planner.core.permissions import Role
from planner.goals import service as goals
from planner.goals.models import KPI, Goal
from planner.projects import service as projects
from planner.projects.models import Membership, Project


class Factory:
    PASSWORD = "correct horse battery"  # noqa: S105

    def __init__(self, session: Session) -> None:
        self.session = session
        self._n = 0

    def user(self, username: str | None = None, *, admin: bool = False, name: str = "") -> User:
        self._n += 1
        user = create_user(
            self.session,
            username or f"user{self._n}",
            self.PASSWORD,
            display_name=name,
            is_admin=admin,
        )
        self.session.commit()
        return user

    def token(self, user: User) -> str:
        _, token = create_token(self.session, user, "test")
        self.session.commit()
        return token

    def project(self, lead: User | None = None, name: str = "CRM rollout") -> Project:
        lead = lead or self.user()
        project = projects.create_project(self.session, lead, name=name)
        self.session.commit()
        return project

    def access(self, project: Project, user: User) -> projects.Access:
        return projects.load_access(self.session, project.id, user)

    def member(
        self,
        project: Project,
        user: User | None = None,
        role: Role = Role.VIEWER,
        department: str | None = None,
    ) -> User:
        user = user or self.user()
        lead_access = self.lead_access(project)
        dept_id = None
        if role == Role.REVIEWER or department:
            dept = projects.department_by_name(self.session, project.id, department or "Sales")
            dept_id = dept.id if dept else None
        projects.add_member(
            self.session, lead_access, username=user.username, role=role, department_id=dept_id
        )
        self.session.commit()
        return user

    def lead_access(self, project: Project) -> projects.Access:
        """The access of the rollout's first lead: the factory acts as that person, so the
        audit trail of a test names a real member, not a hidden site admin."""
        lead = self.session.scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project.id, Membership.role == Role.LEAD)
            .order_by(Membership.id)
            .limit(1)
        )
        assert lead is not None, "a rollout always has a lead"
        return projects.Access(project=project, user=lead, role=Role.LEAD)

    def goal(
        self,
        project: Project,
        statement: str = "A transparent sales pipeline",
        *,
        kpi: bool = True,
        baseline: float | None = 10,
        target: float | None = 90,
    ) -> Goal:
        access = self.lead_access(project)
        goal = goals.create_goal(self.session, access, statement=statement, department_id=None)
        if kpi:
            goals.add_kpi(
                self.session,
                access,
                goal,
                name="Deals in the pipeline",
                unit="%",
                baseline=baseline,
                target=target,
            )
        self.session.commit()
        return goal

    def kpi(self, goal: Goal, **kw) -> KPI:
        from planner.projects.models import Project as P

        project = self.session.get(P, goal.project_id)
        access = self.lead_access(project)
        kpi = goals.add_kpi(self.session, access, goal, name=kw.pop("name", "KPI"), **kw)
        self.session.commit()
        return kpi

    def ready_goals_phase(self, project: Project) -> None:
        """Everything the goals gate needs: a vision and a goal with a complete KPI."""
        access = self.lead_access(project)
        projects.update_project(self.session, access, version=None, vision="Why we need a CRM")
        self.session.commit()
        self.goal(project)
