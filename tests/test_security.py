from tests.conftest import login


def test_security_headers_on_every_response(client):
    for path in ["/login", "/static/app.css", "/api/v1/openapi.json", "/nope"]:
        resp = client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        resp.close()


def test_login_clears_the_session_and_sets_httponly_cookie(client, factory):
    factory.user("ana")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    resp = login(client, "ana")
    assert resp.status_code == 302
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as s:
        assert "planted" not in s


def test_passwords_are_hashed_with_argon2id(factory):
    user = factory.user("bob")
    assert user.password_hash.startswith("$argon2id$")
    assert factory.PASSWORD not in user.password_hash


def test_wrong_password_is_refused_and_audited(client, factory):
    from sqlalchemy import select

    from planner.core.audit import AuditEvent
    from planner.extensions import db

    factory.user("carol")
    resp = login(client, "carol", "not the password")
    assert resp.status_code == 401
    assert "Wrong username or password" in resp.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "login.failed" in actions


def test_open_redirect_after_login_is_refused(client, factory):
    from tests.conftest import csrf_token

    factory.user("dan")
    token = csrf_token(client)
    resp = client.post(
        "/login?next=//evil.example/x",
        data={"username": "dan", "password": factory.PASSWORD, "csrf_token": token},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"


def test_markdown_is_sanitised(app):
    from planner.core.web import render_markdown

    html = str(render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1))"))
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html


def test_user_text_is_escaped_in_pages(client, factory, login_as):
    lead = factory.user("erin")
    project = factory.project(lead, name="<img src=x onerror=alert(1)>")
    factory.goal(project, statement="<script>alert('goal')</script>")
    login_as("erin")
    for path in [f"/projects/{project.id}", f"/projects/{project.id}/goals"]:
        body = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;" in body


def test_inactive_user_cannot_log_in(client, factory):
    from planner.extensions import db

    user = factory.user("frank")
    user.active = False
    db.session.commit()
    assert login(client, "frank").status_code == 401
