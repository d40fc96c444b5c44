"""The models and the migrations describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from planner.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_migrations_reach_a_single_head(app):
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1


def test_the_title_key_migration_fills_the_keys_of_existing_requirements(tmp_path):
    """0011 adds requirement.title_key and computes it for the rows already there, as the
    service computes it for new ones."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from planner.requirements.flags import normalise_title
    from tests.conftest import _app

    app = _app(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO project (id, name, company, description, vision, "
                    "strategy_text, archived, version, created_at, updated_at) VALUES "
                    "(1, 'P', '', '', '', '', 0, 1, '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO requirement (id, project_id, number, title, description, type, "
                    "priority, module, acceptance_criterion, status, revision, search_text, "
                    "version, created_at, updated_at) VALUES (1, 1, 1, :t, '', 'functional', "
                    "'must', '', '', 'proposed', 1, '', 1, '2026-01-01', '2026-01-01')"
                ),
                {"t": "Track  CUSTOMER calls — in real-time!"},
            )
        upgrade()
        with db.engine.connect() as conn:
            key = conn.execute(text("SELECT title_key FROM requirement")).scalar_one()
        assert key == normalise_title("Track  CUSTOMER calls — in real-time!")
        downgrade(revision="0010")
        db.engine.dispose()
