"""Form fields carry aria-invalid, aria-describedby and autofocus only where they apply (an
attribute rendered as the text "None" made screen readers hear every field as invalid)."""

from __future__ import annotations

import re

from tests.conftest import csrf_token


def test_no_field_carries_an_attribute_that_does_not_apply(client, factory, login_as):
    lead = factory.user("ana")
    project = factory.project(lead)
    login_as("ana")
    pid = project.id
    for path in (
        "/projects/new",
        f"/projects/{pid}/goals/new",
        f"/projects/{pid}/settings",
        f"/projects/{pid}/members",
        f"/projects/{pid}/phases/goals",
        "/profile",
    ):
        html = client.get(path).get_data(as_text=True)
        assert '="None"' not in html, path
        assert "aria-invalid" not in html, path
        assert "autofocus" not in html, path


def test_a_refused_field_is_marked_and_described_and_only_it(client, factory, login_as):
    factory.user("ana")
    login_as("ana")
    resp = client.post(
        "/projects/new", data={"name": "", "csrf_token": csrf_token(client, "/projects/new")}
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    invalid = re.findall(r'<(?:input|select|textarea)[^>]*aria-invalid="true"[^>]*>', html)
    assert len(invalid) == 1 and 'name="name"' in invalid[0]
    assert 'aria-describedby="name-error"' in invalid[0]
    assert 'id="name-error"' in html
    assert '="None"' not in html


def test_the_login_form_focuses_the_username(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*autofocus[^>]*name="username"|<input[^>]*name="username"[^>]*autofocus', html
    )
    assert html.count("autofocus") == 1
