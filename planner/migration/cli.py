"""``planner migrate apply``: a recipe applied to a full export outside the web app, by the same
functions the page previews with, so that the real migration is a repeatable run with a record
(the recipe's, the export's and the result's SHA-256 and the counts), not a series of clicks."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import ScriptInfo

from planner.core.errors import DomainError


def sha256(path: Path) -> str:
    """The file's SHA-256, read in pieces of 1 MB."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while piece := stream.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


def _check_rollout(project_id: int, info: ScriptInfo) -> None:
    from planner.extensions import db
    from planner.projects.models import Project

    with info.load_app().app_context():
        if db.session.get(Project, project_id) is None:
            raise click.ClickException(f"No rollout {project_id} in this database.")


def _record(project_id: int, run: dict[str, Any], info: ScriptInfo) -> None:
    """The run in the rollout's audit trail, as the system's act (names and hashes, no value)."""
    from planner.core import audit
    from planner.extensions import db
    from planner.projects.models import Project

    with info.load_app().app_context():
        if db.session.get(Project, project_id) is None:
            raise click.ClickException(f"No rollout {project_id} in this database.")
        audit.record(
            db.session,
            actor=None,
            action="migration.apply",
            entity_type="migration_recipe",
            entity_id=None,
            project_id=project_id,
            summary=(
                f"recipe applied outside the app to {run['export']['name']}: "
                f"{run['summary'].get('kept', 0)} records written, "
                f"{run['summary'].get('rejected', 0)} rejected"
            ),
            after={k: run[k] for k in ("recipe", "export", "output")},
        )
        db.session.commit()


@click.group("migrate")
def migrate() -> None:
    """Data migration outside the web app."""


@migrate.command("apply")
@click.argument("recipe_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("export_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The cleaned file to write (.csv, or .xlsx for a workbook).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to list the rows not converted and the warnings, with why (CSV).",
)
@click.option("--encoding", help="Read the export in this encoding (default: detected).")
@click.option("--delimiter", help="Read the export with this delimiter (default: detected).")
@click.option("--header-row", type=click.IntRange(1, 51), help="The header's line, from 1.")
@click.option(
    "--record",
    "record_in",
    type=int,
    metavar="ROLLOUT_ID",
    help="Record the run in this rollout's audit trail (needs the app's database).",
)
@click.pass_obj
def apply(
    info: ScriptInfo,
    recipe_file: Path,
    export_file: Path,
    output: Path,
    rejects: Path | None,
    encoding: str | None,
    delimiter: str | None,
    header_row: int | None,
    record_in: int | None,
) -> None:
    """Apply RECIPE_FILE (a recipe exported from the app) to EXPORT_FILE (the old CRM's export)
    and write the cleaned records to OUTPUT: exactly what the app's preview shows. Prints the
    run (hashes and counts) as JSON; exits 1 when the recipe or the export is refused."""
    from planner.migration import recipe as engine

    try:
        document = json.loads(recipe_file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise click.ClickException(f"{recipe_file.name} is not a JSON recipe: {exc}") from None
    files = {"the recipe": recipe_file, "the export": export_file, "the output": output}
    if rejects is not None:
        files["the rejects"] = rejects
    seen: dict[Path, str] = {}
    for role, path in files.items():
        same = seen.setdefault(path.resolve(), role)
        if same != role:
            raise click.ClickException(
                f"{same.capitalize()} and {role} are one file ({path}): nothing is written."
            )
    if not output.parent.is_dir() or (rejects is not None and not rejects.parent.is_dir()):
        raise click.ClickException("The folder to write to does not exist: nothing is written.")
    if record_in is not None:
        _check_rollout(record_in, info)  # before anything is written
    hashes = {"recipe": sha256(recipe_file), "export": sha256(export_file)}  # before writing
    if delimiter == "\\t":
        delimiter = "\t"
    kind = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    try:
        recipe = engine.parse(document)
        summary = engine.apply_file(
            recipe,
            export_file,
            output,
            filename=export_file.name,
            encoding=encoding,
            delimiter=delimiter,
            header_row=None if header_row is None else header_row - 1,
            rejects=rejects,
            kind=kind,
        )
    except DomainError as exc:
        lines = [exc.detail] + [
            f"  {path}: {message}"
            for path, messages in getattr(exc, "errors", {}).items()
            for message in messages
        ]
        click.echo("\n".join(lines), err=True)
        sys.exit(1)
    run = {
        "recipe": {"name": recipe_file.name, "sha256": hashes["recipe"]},
        "export": {"name": export_file.name, "sha256": hashes["export"]},
        "output": {"name": output.name, "sha256": sha256(output)},
        "summary": summary.as_dict(),
    }
    if record_in is not None:
        _record(record_in, run, info)
    click.echo(json.dumps(run, ensure_ascii=False, indent=2))
