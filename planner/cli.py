"""The ``planner`` console command: a Flask CLI group bound to the factory.

Thin commands over service functions; each commits once.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from planner.extensions import db


def _create_app() -> Flask:
    """The app for the console command: development unless PLANNER_ENV says otherwise."""
    from planner import create_app

    os.environ.setdefault("PLANNER_ENV", "development")
    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_version_option=False, add_default_commands=False
)
def cli() -> None:
    """planner: CRM rollout workspace. PLANNER_ENV defaults to development here."""


def upgrade_db() -> None:
    from flask_migrate import upgrade

    upgrade()


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the schema to the latest migration."""
    upgrade_db()
    click.echo(f"Database at head: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Make the account a site admin.")
@click.option("--name", default="", help="Display name.")
@with_appcontext
def create_user(username: str, password: str, admin: bool, name: str) -> None:
    """Create an account."""
    from planner.core.accounts.service import create_user as create
    from planner.core.errors import DomainError

    try:
        user = create(db.session, username, password, display_name=name, is_admin=admin)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Created {user.username}" + (" (site admin)" if admin else ""))


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="CLI token")
@with_appcontext
def create_token(username: str, name: str) -> None:
    """Issue an API token; the token is the last line of the output."""
    from planner.core.accounts.service import create_token as issue
    from planner.core.accounts.service import find_user

    user = find_user(db.session, username)
    if user is None or not user.active:
        raise click.ClickException(f"No active account named {username!r}.")
    _, token = issue(db.session, user, name)
    db.session.commit()
    click.echo(f"API token for {user.username} (shown once; store it safely):")
    click.echo(token)


@click.command("demo")
@click.option("--size", type=click.Choice(["small", "large"]), default="small")
@with_appcontext
def demo(size: str) -> None:
    """Load a realistic demo rollout built from the source documents."""
    from planner import demo as demo_data

    upgrade_db()
    result = demo_data.load(db.session, size=size)
    db.session.commit()
    click.echo(f"Demo rollout #{result.project_id} loaded ({size}).")
    click.echo("Logins (username / password):")
    for username, password in result.logins:
        click.echo(f"  {username:<10} {password}")


@click.command("quickstart")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def quickstart(host: str, port: int) -> None:
    """Migrate, load the demo rollout if the database has none, and serve it."""
    from sqlalchemy import func, select

    from planner import demo as demo_data
    from planner.projects.models import Project

    upgrade_db()
    if not db.session.scalar(select(func.count()).select_from(Project)):
        demo_data.load(db.session)
        db.session.commit()
    click.echo("")
    click.echo(f"planner is running at http://{host}:{port}/")
    click.echo("Demo logins (username / password):")
    click.echo(f"  admin      {demo_data.DEMO_PASSWORD}   (site admin)")
    for username, name, _, _ in demo_data.BOARD:
        click.echo(f"  {username:<10} {demo_data.DEMO_PASSWORD}   {name}")
    click.echo("Press Ctrl+C to stop.")
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    """Serve the app with a report worker in this process (one process does everything)."""
    from werkzeug.serving import run_simple

    from planner.core.jobs import InProcessWorker

    app = current_app._get_current_object()
    worker = None
    if not app.config["JOBS_IMMEDIATE"]:
        worker = InProcessWorker()
        worker.start()
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        if worker is not None:
            worker.stop()


@click.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def run(host: str, port: int) -> None:
    """Serve the app (development server) with a report worker in the same process."""
    click.echo(f"planner is running at http://{host}:{port}/ (Ctrl+C to stop)")
    _serve(host, port)


@click.command("worker")
@click.option("--workers", default=2, type=int, help="Threads rendering reports.")
@with_appcontext
def worker(workers: int) -> None:
    """Run a report worker on its own (deployments: beside the app servers, same settings)."""
    from planner.core.jobs import huey

    if current_app.config["JOBS_IMMEDIATE"]:
        raise click.ClickException("Jobs run immediately in this environment (PLANNER_ENV=test).")
    huey.create_consumer(workers=workers, worker_type="thread", periodic=False).run()


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Copy the live SQLite database consistently (backup API), then check the copy."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "This database is PostgreSQL: back it up with pg_dump, e.g. "
            'pg_dump --format=custom --file=planner.dump "$DATABASE_URL".'
        )
    if path.exists():
        raise click.ClickException(f"{path} exists; choose a new file name.")
    source_path = url.database
    if not source_path or not Path(source_path).exists():
        raise click.ClickException("The SQLite database file does not exist yet.")
    src = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    dst = sqlite3.connect(path)
    try:
        src.backup(dst)
        result = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        src.close()
        dst.close()
    if result != "ok":
        path.unlink(missing_ok=True)
        raise click.ClickException(f"The copy failed its integrity check: {result}")
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes); integrity check: ok")


@click.command("init-signing")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the files (default: instance/signing).",
)
@click.option("--name", default="planner", help="The signing certificate's name.")
@with_appcontext
def init_signing(directory: Path | None, name: str) -> None:
    """Create a certificate authority and a signing key for a deployment that has none."""
    from planner.core.errors import DomainError
    from planner.spec import pades

    folder = directory or Path(current_app.instance_path) / "signing"
    files = {n: folder / n for n in ("ca.pem", "signing.p12", "passphrase")}
    if any(f.exists() for f in files.values()):
        raise click.ClickException(f"{folder} holds signing files already; nothing was written.")
    try:
        identity = pades.make_signing_identity(name)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    folder.mkdir(parents=True, exist_ok=True)
    files["ca.pem"].write_bytes(identity.ca_cert_pem)
    for key, data in (("signing.p12", identity.p12), ("passphrase", identity.passphrase)):
        files[key].touch(mode=0o600)
        files[key].write_bytes(data)
    click.echo(
        f"Wrote {files['ca.pem']}, {files['signing.p12']} and {files['passphrase']} (mode 600).\n"
        "Set, for the app and the worker:\n"
        f"  export PLANNER_SIGNING_P12={files['signing.p12']}\n"
        f"  export PLANNER_SIGNING_PASSPHRASE_FILE={files['passphrase']}\n"
        f"  export PLANNER_SIGNING_CA={files['ca.pem']}\n"
        "To sign with your organisation's own certificate instead, point PLANNER_SIGNING_P12 at "
        "its PKCS#12 file, PLANNER_SIGNING_PASSPHRASE_FILE at a file holding its passphrase, and "
        "PLANNER_SIGNING_CA at the certificate of the authority that issued it."
    )


@click.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The certificate authority to trust (default: PLANNER_SIGNING_CA).",
)
@with_appcontext
def verify(pdf: Path, ca: Path | None) -> None:
    """Check a signed specification: which rollout and version it is, whether it is the sealed
    PDF stored here, its signatures, what changed after them, and whether the JSON it carries
    is the one whose SHA-256 the executives signed. Exit status 0 if valid, 1 if not."""
    from planner.spec.verification import verify_file

    ca_path = ca or (Path(p) if (p := current_app.config.get("SIGNING_CA")) else None)
    if ca_path is None:
        raise click.ClickException("Give --ca, or set PLANNER_SIGNING_CA.")
    verdict = verify_file(db.session, pdf.read_bytes(), ca_path.read_bytes(), lambda _: True)
    for n, s in enumerate(verdict.signatures, start=1):
        flags = ", ".join(
            word
            for ok, word in (
                (s.intact, "intact"),
                (s.trusted, "made by the deployment's authority"),
                (not s.modified_after, "nothing changed after it"),
            )
            if ok
        )
        when = s.signed_at.isoformat() if s.signed_at else "no time"
        click.echo(
            f"signature {n}: {s.claimed_name or s.signer}, {when}, {s.reason or ''}: {flags}"
        )
    if verdict.version is not None:
        click.echo(
            f"{verdict.json_name}: specification version {verdict.version.number} of rollout "
            f"{verdict.version.project_id} ({verdict.rollout}), SHA-256 {verdict.json_sha256}"
        )
        click.echo(f"compared with the stored signed PDF: {verdict.stored}")
    for problem in verdict.problems:
        click.echo(f"problem: {problem}")
    click.echo("valid" if verdict.valid else "NOT valid")
    sys.exit(0 if verdict.valid else 1)


@click.command("purge-exports")
@with_appcontext
def purge_exports() -> None:
    """Purge the old CRM's exports of the rollouts whose migration gate passed more than
    PLANNER_MIGRATION_PURGE_DAYS days ago (their rows; their profiles' counts stay). Run it
    daily, from cron or a systemd timer."""
    from planner.migration import service

    days = current_app.config["MIGRATION_PURGE_DAYS"]
    purged = service.purge_expired(db.session, days)
    db.session.commit()
    click.echo(
        f"{len(purged)} export{'' if len(purged) == 1 else 's'} purged "
        f"({days} days after the migration gate passed)"
    )


def _migrate() -> click.Group:
    from planner.migration.cli import migrate

    return migrate


COMMANDS = (
    init_db,
    create_user,
    create_token,
    demo,
    quickstart,
    run,
    worker,
    backup,
    init_signing,
    verify,
    purge_exports,
    _migrate(),
)


def register(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())
