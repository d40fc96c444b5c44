"""JSON API of the caller's own account: API tokens."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from planner.core.accounts import service
from planner.core.accounts.models import ApiToken
from planner.core.accounts.schemas import TokenForm
from planner.core.api import api_blueprint, api_user, doc, validated
from planner.core.versioning import unit_of_work
from planner.extensions import db

bp = api_blueprint("accounts_api", __name__)


def token_json(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "prefix": t.prefix,
        "created_at": t.created_at.isoformat() if t.created_at else None,
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
    }


@bp.get("/tokens")
@doc("The caller's API tokens (never the tokens themselves)", permission="login")
def tokens_list():
    return jsonify({"items": [token_json(t) for t in service.list_tokens(db.session, api_user())]})


@bp.post("/tokens")
@doc(
    "Issue a new API token for the caller; `token` is shown in this answer only",
    body=TokenForm,
    status=201,
    permission="login",
)
def tokens_create():
    form = validated(TokenForm)
    with unit_of_work(db.session):
        row, token = service.create_token(db.session, api_user(), form.name.data or "")
        body = token_json(row) | {"token": token}
    return jsonify(body), 201


@bp.delete("/tokens/<int:token_id>")
@doc("Revoke one of the caller's API tokens", status=204, permission="login")
def tokens_revoke(token_id: int):
    with unit_of_work(db.session):
        service.revoke_token(db.session, api_user(), token_id)
    return "", 204
