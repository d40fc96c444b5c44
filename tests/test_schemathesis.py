"""Schemathesis against /api/v1/openapi.json: generated requests for every documented
operation, as the lead of a real rollout with a vendor board; none may get a server error.

Bounded so the suite stays fast: a few examples per operation, no deadline (timings belong to
the benchmarks). ``project_id`` is pinned to the rollout, so that generated bodies reach each
operation's validation instead of a 404.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from planner.core.permissions import Role
from planner.extensions import db
from planner.requirements import service as requirements
from planner.vendors import service as vendors

EXAMPLES = 6
SHARDS = 3  # separate tests, so that the suite's workers share the run


@pytest.fixture
def rollout(app, factory):
    """A rollout with a reviewer, two vendors and a criterion; the lead's token."""
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    factory.member(project, factory.user("mihai"), Role.REVIEWER, "Sales")
    access = factory.lead_access(project)
    vendors.create_vendor(db.session, access, name="Salesforce", cost_3y=410000.0)
    vendors.create_vendor(db.session, access, name="HubSpot", cost_3y=190000.0)
    vendors.create_criterion(db.session, access, name="Functionality", weight=1.0)
    req = requirements.create_requirement(
        db.session,
        access,
        title="Track every call",
        type="functional",
        priority="must",
        status="proposed",
    )
    db.session.commit()
    return {"project_id": project.id, "requirement_id": req.id, "token": factory.token(lead)}


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_generated_request_gets_a_server_error(app, rollout, shard):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {rollout['token']}"}
    every = [result.ok() for result in schema.get_all_operations()]
    assert len(every) > 60  # every documented operation is exercised, by one of the shards
    operations = sorted(every, key=lambda op: op.label)[shard::SHARDS]
    failures: list[str] = []
    seen: dict[int, int] = {}

    def exercise(operation) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            for pinned in ("project_id", "requirement_id"):
                if pinned in (case.path_parameters or {}):
                    case.path_parameters[pinned] = rollout[pinned]
            response = case.call(headers=headers)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{operation.label}: {response.status_code} {case.body!r:.200}")

        run()

    for operation in operations:
        exercise(operation)
    assert failures == []
    # The requests reached the operations: some succeeded, some were refused as invalid.
    assert seen.get(200, 0) + seen.get(201, 0) > 5 and seen.get(422, 0) > 5, seen
    print("statuses:", dict(sorted(seen.items())))
