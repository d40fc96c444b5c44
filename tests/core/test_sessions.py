"""Sessions end when they should: logging out, changing the password or a change of the
account's state ends every session of the account, replayed cookies included."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planner.core.accounts import service as accounts
from planner.core.accounts.models import ApiToken, User
from planner.core.audit import AuditEvent
from planner.extensions import db
from tests.conftest import Api, csrf_token, login

NEW_PASSWORD = "a new and long passphrase"


def _logged_in(app: Flask, username: str, password: str | None = None) -> FlaskClient:
    client = app.test_client()
    resp = login(client, username) if password is None else login(client, username, password)
    assert resp.status_code == 302
    assert client.get("/profile").status_code == 200
    return client


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def _is_in(client: FlaskClient) -> bool:
    resp = client.get("/profile")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def _logout(client: FlaskClient) -> None:
    token = csrf_token(client, "/profile")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_a_replayed_cookie_of_a_logged_out_session_does_not_work(app, factory):
    factory.user("ana", name="Ana Popescu")
    laptop = _logged_in(app, "ana")
    copied = _cookie(laptop)
    assert _is_in(_with_cookie(app, copied))  # the copy works while the session lives
    _logout(laptop)
    assert not _is_in(laptop)
    assert not _is_in(_with_cookie(app, copied))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.sessions_ended"))
    assert event is not None and "logged out" in event.summary


def test_logging_out_on_one_device_ends_the_others(app, factory):
    factory.user("ana")
    laptop, phone = _logged_in(app, "ana"), _logged_in(app, "ana")
    _logout(phone)
    assert not _is_in(laptop)
    again = _logged_in(app, "ana")  # a new login works as before
    assert _is_in(again)


def test_a_password_change_ends_other_sessions_keeps_this_one_and_offers_the_tokens(app, factory):
    ana = factory.user("ana")
    kept_token, revoked_token = factory.token(ana), factory.token(ana)
    laptop, phone = _logged_in(app, "ana"), _logged_in(app, "ana")
    page = laptop.get("/profile").get_data(as_text=True)
    assert "Also revoke my API tokens" in page
    old_cookie = _cookie(laptop)
    resp = laptop.post(
        "/profile",
        data={
            "form": "pwd",
            "pwd-current_password": factory.PASSWORD,
            "pwd-new_password": NEW_PASSWORD,
            "pwd-revoke_tokens": "y",
            "csrf_token": csrf_token(laptop, "/profile"),
        },
        follow_redirects=True,
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "You were logged out everywhere else." in text
    assert "Your API tokens are revoked." in text
    assert _is_in(laptop)  # the session that changed it goes on
    assert not _is_in(phone)
    assert not _is_in(_with_cookie(app, old_cookie))
    assert Api(app.test_client(), kept_token).get("/projects").status_code == 401
    assert Api(app.test_client(), revoked_token).get("/projects").status_code == 401
    assert login(app.test_client(), "ana").status_code == 401  # the old password is gone
    assert _is_in(_logged_in(app, "ana", NEW_PASSWORD))


def test_a_password_change_can_keep_the_tokens(app, factory):
    ana = factory.user("ana")
    token = factory.token(ana)
    laptop = _logged_in(app, "ana")
    laptop.post(
        "/profile",
        data={
            "form": "pwd",
            "pwd-current_password": factory.PASSWORD,
            "pwd-new_password": NEW_PASSWORD,
            "csrf_token": csrf_token(laptop, "/profile"),
        },
    )
    assert Api(app.test_client(), token).get("/projects").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == ana.id)) is None


def test_a_wrong_current_password_changes_nothing_and_ends_no_session(app, factory):
    factory.user("ana")
    laptop, phone = _logged_in(app, "ana"), _logged_in(app, "ana")
    resp = laptop.post(
        "/profile",
        data={
            "form": "pwd",
            "pwd-current_password": "not my password",
            "pwd-new_password": NEW_PASSWORD,
            "csrf_token": csrf_token(laptop, "/profile"),
        },
    )
    assert resp.status_code == 422 and "Wrong password." in resp.get_data(as_text=True)
    assert _is_in(laptop) and _is_in(phone)


def test_deactivating_ends_sessions_and_reactivating_does_not_revive_them(app, factory):
    admin = factory.user("root", admin=True)
    ana = factory.user("ana")
    laptop = _logged_in(app, "ana")
    copied = _cookie(laptop)
    accounts.set_active(db.session, ana, False, actor=admin)
    db.session.commit()
    assert not _is_in(laptop)
    accounts.set_active(db.session, db.session.get(User, ana.id), True, actor=admin)
    db.session.commit()
    assert not _is_in(laptop)
    assert not _is_in(_with_cookie(app, copied))
    assert _is_in(_logged_in(app, "ana"))  # a new login works


def test_a_session_id_that_is_not_ours_logs_nobody_in(app, factory):
    """A cookie naming a user id without its epoch (or garbage) is no session."""
    factory.user("ana")
    laptop = _logged_in(app, "ana")
    with laptop.session_transaction() as sess:
        assert sess["_user_id"].count(".") == 1
        sess["_user_id"] = sess["_user_id"].split(".")[0]
    assert not _is_in(laptop)
    with laptop.session_transaction() as sess:
        sess["_user_id"] = "99999999999999999999.1"
    assert not _is_in(laptop)
