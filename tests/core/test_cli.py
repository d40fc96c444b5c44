import sqlite3

from sqlalchemy import func, select

from planner.core.accounts.service import user_for_token
from planner.extensions import db
from planner.goals.models import Goal
from planner.projects.models import Membership, Project


def test_init_db_is_idempotent(runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database at head" in result.output


def test_create_user_and_token(runner):
    result = runner.invoke(
        args=["create-user", "ioana", "--password", "a long password", "--admin"]
    )
    assert result.exit_code == 0, result.output
    assert "site admin" in result.output
    result = runner.invoke(args=["create-token", "ioana"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    user = user_for_token(db.session, token)
    assert user is not None and user.username == "ioana" and user.is_admin


def test_create_user_refuses_bad_input(runner):
    assert runner.invoke(args=["create-user", "x y", "--password", "a long password"]).exit_code
    result = runner.invoke(args=["create-user", "short", "--password", "123"])
    assert result.exit_code != 0 and "at least 10" in result.output
    runner.invoke(args=["create-user", "taken", "--password", "a long password"])
    result = runner.invoke(args=["create-user", "TAKEN", "--password", "a long password"])
    assert result.exit_code != 0 and "taken" in result.output
    assert runner.invoke(args=["create-token", "nobody"]).exit_code != 0


def test_demo_loads_a_realistic_rollout_from_the_seeds(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "lead" in result.output and "demo-rollout-2026" in result.output
    project = db.session.scalar(select(Project))
    statements = db.session.scalars(select(Goal.statement).where(Goal.project_id == project.id))
    text = "\n".join(statements)
    assert "siguranță a bazei de clienti" in text  # seed 000, Romanian
    assert "客服部门" in text  # seed 001, Chinese
    assert "קבל תמיכה מהמנהל העליון" in project.vision  # seed 002, Hebrew
    members = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.project_id == project.id)
    )
    assert members == 9


def test_backup_makes_a_consistent_checked_copy(runner, tmp_path):
    runner.invoke(args=["demo"])
    target = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    if db.engine.dialect.name != "sqlite":
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    assert result.exit_code == 0, result.output
    assert "integrity check: ok" in result.output
    with sqlite3.connect(target) as conn:
        assert conn.execute("select count(*) from goal").fetchone()[0] == 9
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "exists" in again.output


def test_the_demo_tells_one_consistent_story(app):
    """Phases passed, in progress and ahead with dates that agree; files in the phases that
    are done; an audit trail spread over the weeks the work took, in order; no marker of the
    source documents in its text."""
    import re
    from datetime import timedelta

    from sqlalchemy import func, select

    from planner import demo
    from planner.artifacts.models import Artifact
    from planner.core.audit import AuditEvent
    from planner.core.db import utcnow
    from planner.extensions import db
    from planner.projects.models import Phase

    result = demo.load(db.session)
    db.session.commit()
    pid = result.project_id
    phases = {p.key: p for p in db.session.scalars(select(Phase).where(Phase.project_id == pid))}
    status = {k: p.status.value for k, p in phases.items()}
    assert status == {
        "goals": "passed",
        "requirements": "passed",
        "design": "passed",
        "vendors": "in_progress",
        "spec": "not_started",
        "migration": "not_started",
        "testing": "not_started",
        "training": "not_started",
        "golive": "not_started",
    }
    today = utcnow().date()
    for key in ("goals", "requirements", "design"):
        p = phases[key]
        assert p.actual_start < p.actual_end < today, key
    assert phases["vendors"].planned_start < today < phases["vendors"].planned_end
    assert all(phases[k].planned_start > today for k in ("spec", "migration", "golive"))
    files = dict(
        db.session.execute(
            select(Artifact.phase_key, func.count())
            .where(Artifact.project_id == pid)
            .group_by(Artifact.phase_key)
        ).all()
    )
    assert set(files) >= {"goals", "requirements", "design"}
    at = list(
        db.session.scalars(
            select(AuditEvent.at).where(AuditEvent.project_id == pid).order_by(AuditEvent.id)
        )
    )
    assert at == sorted(at) and at[-1] - at[0] > timedelta(weeks=8)
    # It reads as a rollout, not as a digest of documents: no "(seed 001)" in what people see.
    from planner.goals.models import KPI, Goal
    from planner.projects.models import Project

    texts = [
        *db.session.scalars(select(Project.vision)),
        *db.session.scalars(select(Project.strategy_text)),
        *db.session.scalars(select(Goal.statement)),
        *db.session.scalars(select(KPI.name)),
        *db.session.scalars(select(KPI.measurement_method)),
    ]
    assert texts and not [t for t in texts if t and re.search(r"\bseed\s*0\d\d", t, re.I)]
