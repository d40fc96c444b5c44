from dataclasses import dataclass

import pytest

from planner.core.permissions import Role
from planner.extensions import db
from planner.projects import service as projects
from planner.vendors import service


@dataclass
class VendorBoard:
    project: object
    lead: object
    reviewers: list
    vendors: list
    criteria: list

    def access(self, user, role=Role.REVIEWER):
        return projects.Access(project=self.project, user=user, role=role)

    @property
    def lead_access(self):
        return projects.Access(project=self.project, user=self.lead, role=Role.LEAD)

    def submit(self, *users) -> None:
        """Submit these reviewers' scoresheets (only submitted scores count in results)."""
        for user in users:
            service.submit_scoresheet(db.session, self.access(user))
        db.session.commit()


@pytest.fixture
def vboard(factory) -> VendorBoard:
    """Two vendors, two criteria, two reviewers (Sales, IT), the round open."""
    lead = factory.user("lead", name="Ana Popescu")
    project = factory.project(lead)
    reviewers = [
        factory.member(project, factory.user("mihai"), Role.REVIEWER, "Sales"),
        factory.member(project, factory.user("jonas"), Role.REVIEWER, "IT"),
    ]
    access = projects.Access(project=project, user=lead, role=Role.LEAD)
    vendors = [
        service.create_vendor(db.session, access, name="Salesforce", cost_3y=410000.0),
        service.create_vendor(db.session, access, name="HubSpot", cost_3y=190000.0),
    ]
    criteria = [
        service.create_criterion(
            db.session, access, name="Functionality", weight=3.0, must_have=True, min_score=3.0
        ),
        service.create_criterion(db.session, access, name="Security", weight=1.0),
    ]
    service.set_round_state(db.session, access, action="open", two_envelopes=True)
    db.session.commit()
    return VendorBoard(project, lead, reviewers, vendors, criteria)
