"""The demo rollout's data migration tells the phase's story: an export profiled, its recipe,
a pilot reconciled with one difference explained and one not, a plan whose backup is taken but
not verified, so the gate waits on both."""

from __future__ import annotations

from sqlalchemy import select

from planner import demo
from planner.extensions import db
from planner.migration import gate
from planner.migration.models import (
    MigrationPilot,
    MigrationPlan,
    MigrationRecipe,
    MigrationReconciliation,
    MigrationUpload,
)
from planner.projects.models import Project


def test_the_demo_has_a_recipe_a_reconciled_pilot_and_a_plan(app):
    result = demo.load(db.session)
    db.session.commit()
    project = db.session.get(Project, result.project_id)
    (upload,) = db.session.scalars(select(MigrationUpload)).all()
    (recipe,) = db.session.scalars(select(MigrationRecipe)).all()
    (pilot,) = db.session.scalars(select(MigrationPilot)).all()
    (done,) = db.session.scalars(select(MigrationReconciliation)).all()
    plan = db.session.scalars(select(MigrationPlan)).one()
    assert recipe.upload_id == upload.id and pilot.size == 5
    assert done.summary["counts"]["emptied"] >= 1
    left = gate.unexplained(done)
    assert 1 <= len(left) < len(done.summary["differences"])
    assert plan.backup_taken and not plan.backup_verified
    assert [c.met for c in gate.criteria(db.session, project)] == [False, False]
