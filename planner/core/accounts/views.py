"""Log in and out, the profile (preferences, password, API tokens), and site admin pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from planner.core import audit
from planner.core.accounts import service
from planner.core.accounts.models import User
from planner.core.accounts.schemas import (
    LoginForm,
    PasswordForm,
    PreferencesForm,
    TokenForm,
    UserForm,
)
from planner.core.audit import AuditFilter, audit_query
from planner.core.errors import DomainError
from planner.core.forms import ConfirmForm
from planner.core.pagination import page_args, paginate
from planner.core.versioning import unit_of_work
from planner.core.web import flash_error
from planner.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def _login_key_account() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:80]


def _login_key_address() -> str:
    return "address:" + (request.remote_addr or "unknown")


def _failed(response: Any) -> bool:
    return bool(g.get("login_failed"))


def _limit() -> str:
    return f"{current_app.config['LOGIN_ATTEMPTS_PER_MINUTE']}/minute"


def _address_limit() -> str:
    return f"{current_app.config['LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE']}/minute"


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("projects.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, key_func=_login_key_address, methods=["POST"], deduct_when=_failed)
@limiter.limit(_limit, key_func=_login_key_account, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("projects.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = service.authenticate(
            db.session, form.username.data, form.password.data, remote_addr=request.remote_addr
        )
        if user is None:
            db.session.commit()  # the audit record of the failure
            g.login_failed = True
            flash(_("Wrong username or password."), "error")
            status = 401
        else:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # no session fixation
            login_user(user)
            db.session.commit()
            return redirect(next_url)
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    ConfirmForm().validate_on_submit() or abort(400)
    with unit_of_work(db.session):  # every session of the account ends, on every device
        user = current_user._get_current_object()
        service.end_sessions(db.session, user, actor=user, why="logged out")
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user: User = current_user._get_current_object()
    prefs = PreferencesForm(prefix="prefs", obj=user)
    pwd = PasswordForm(prefix="pwd")
    token_form = TokenForm(prefix="token")
    new_token = None
    status = 200
    relogin = False
    if request.method == "POST":
        which = request.form.get("form")
        try:
            with unit_of_work(db.session):
                if which == "prefs" and prefs.validate_on_submit():
                    before = audit.snapshot(user, ["display_name", "locale", "timezone"])
                    user.display_name = (prefs.display_name.data or "").strip()
                    user.locale, user.timezone = prefs.locale.data, prefs.timezone.data
                    audit.record(
                        db.session,
                        actor=user,
                        action="user.update",
                        entity_type="user",
                        entity_id=user.id,
                        summary="preferences changed",
                        before=before,
                        after=audit.snapshot(user, ["display_name", "locale", "timezone"]),
                    )
                    flash(_("Preferences saved."), "success")
                elif which == "pwd" and pwd.validate_on_submit():
                    service.change_password(
                        db.session,
                        user,
                        pwd.current_password.data,
                        pwd.new_password.data,
                        revoke_tokens=pwd.revoke_tokens.data,
                    )
                    relogin = True
                    flash(
                        _("Password changed. You were logged out everywhere else.")
                        + (
                            " " + _("Your API tokens are revoked.")
                            if pwd.revoke_tokens.data
                            else ""
                        ),
                        "success",
                    )
                elif which == "token" and token_form.validate_on_submit():
                    _row, new_token = service.create_token(db.session, user, token_form.name.data)
                else:
                    status = 422
        except DomainError as exc:
            flash_error(exc, pwd if which == "pwd" else token_form)
            status = exc.status
        if relogin:  # this session goes on, under the account's new session epoch
            login_user(user)
        if status == 200 and new_token is None:
            return redirect(url_for("accounts.profile"))
    tokens = service.list_tokens(db.session, user)
    return render_template(
        "accounts/profile.html",
        prefs=prefs,
        pwd=pwd,
        token_form=token_form,
        tokens=tokens,
        new_token=new_token,
        confirm=ConfirmForm(),
    ), status


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(db.session):
        service.revoke_token(db.session, current_user._get_current_object(), token_id)
    flash(_("Token revoked."), "success")
    return redirect(url_for("accounts.profile"))


def _require_admin() -> User:
    if not current_user.is_admin:
        abort(404)
    return current_user._get_current_object()


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def admin_users():
    admin = _require_admin()
    form = UserForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    user = service.create_user(
                        db.session,
                        form.username.data,
                        form.password.data,
                        actor=admin,
                        display_name=form.display_name.data or "",
                        email=form.email.data or None,
                        is_admin=form.is_admin.data,
                    )
                flash(_("Account %(name)s created.", name=user.username), "success")
                return redirect(url_for("accounts.admin_users"))
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
        else:
            status = 422
    page, per_page = page_args(request.args, current_app.config["PER_PAGE"])
    users = paginate(db.session, select(User).order_by(User.username), page, per_page)
    return render_template(
        "accounts/admin_users.html", form=form, users=users, confirm=ConfirmForm()
    ), status


@bp.post("/admin/users/<int:user_id>/active")
@login_required
def admin_set_active(user_id: int):
    admin = _require_admin()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id) or abort(404)
    active = request.form.get("active") == "1"
    try:
        with unit_of_work(db.session):
            service.set_active(db.session, user, active, actor=admin)
        flash(_("Account updated."), "success")
    except DomainError as exc:
        flash_error(exc)
    return redirect(url_for("accounts.admin_users"))


@bp.get("/admin/audit")
@login_required
def admin_audit():
    _require_admin()
    flt = AuditFilter(
        action=request.args.get("action") or None, actor=request.args.get("actor") or None
    )
    page, per_page = page_args(request.args, current_app.config["PER_PAGE"])
    events = paginate(db.session, audit_query(None, flt), page, per_page)
    return render_template("accounts/admin_audit.html", events=events, flt=flt)
