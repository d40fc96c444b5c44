"""The members page renames and deletes departments, as the API does: a stale rename is
refused, a department with members is kept, a bad name is refused, all with a message."""

from __future__ import annotations

from sqlalchemy import select

from planner.core.accounts.models import User
from planner.core.audit import AuditEvent
from planner.core.permissions import Role
from planner.extensions import db
from planner.projects import service as projects
from planner.projects.models import Department
from tests.conftest import csrf_token, login


def _setup(factory):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    for dept in projects.departments(db.session, project.id):  # start from none
        projects.delete_department(db.session, factory.lead_access(project), dept.id)
    sales = projects.add_department(db.session, factory.lead_access(project), "Vânzări")  # ro
    legal = projects.add_department(db.session, factory.lead_access(project), "法务部")  # zh
    db.session.commit()
    factory.member(project, factory.user("mihai"), Role.REVIEWER, "Vânzări")
    return project, sales.id, legal.id


def _names(project_id: int) -> list[str]:
    db.session.expire_all()
    return sorted(
        db.session.scalars(select(Department.name).where(Department.project_id == project_id))
    )


def test_lead_renames_a_department_from_the_members_page(client, factory, login_as):
    project, sales, _ = _setup(factory)
    login_as("ana")
    page = client.get(f"/projects/{project.id}/members").get_data(as_text=True)
    assert f'action="/projects/{project.id}/departments/{sales}"' in page
    assert f'href="/projects/{project.id}/departments/{sales}/delete"' in page
    token = csrf_token(client, f"/projects/{project.id}/members")
    resp = client.post(
        f"/projects/{project.id}/departments/{sales}",
        data={f"d{sales}-name": "מכירות", f"d{sales}-was": "Vânzări", "csrf_token": token},
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "Department renamed." in resp.get_data(as_text=True)
    assert _names(project.id) == sorted(["מכירות", "法务部"])
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "department.update"))
    assert event.actor_name == "ana" and event.after == {"name": "מכירות"}


def test_a_rename_on_a_stale_page_is_refused_and_changes_nothing(client, factory, login_as):
    project, sales, _ = _setup(factory)
    login_as("ana")
    token = csrf_token(client, f"/projects/{project.id}/members")
    projects.rename_department(db.session, factory.lead_access(project), sales, "Vertrieb")
    db.session.commit()
    resp = client.post(
        f"/projects/{project.id}/departments/{sales}",
        data={f"d{sales}-name": "Sales", f"d{sales}-was": "Vânzări", "csrf_token": token},
        follow_redirects=True,
    )
    text = resp.get_data(as_text=True)
    assert "renamed this department to" in text and "Vertrieb" in text
    assert _names(project.id) == sorted(["Vertrieb", "法务部"])


def test_bad_renames_are_refused_with_a_message(client, factory, login_as):
    project, sales, legal = _setup(factory)
    login_as("ana")
    token = csrf_token(client, f"/projects/{project.id}/members")
    for name, message in (
        ("", "A department needs a name of at most 120 characters."),
        ("x" * 121, "A department needs a name of at most 120 characters."),
        ("法务部", "exists already"),
    ):
        resp = client.post(
            f"/projects/{project.id}/departments/{sales}",
            data={f"d{sales}-name": name, "csrf_token": token},
            follow_redirects=True,
        )
        assert resp.status_code == 200 and message in resp.get_data(as_text=True), name
    assert _names(project.id) == sorted(["Vânzări", "法务部"])
    no_csrf = client.post(f"/projects/{project.id}/departments/{legal}", data={"d1-name": "X"})
    assert no_csrf.status_code == 400


def test_deleting_asks_first_and_keeps_a_department_with_members(client, factory, login_as):
    project, sales, legal = _setup(factory)
    login_as("ana")
    ask = client.get(f"/projects/{project.id}/departments/{legal}/delete")
    assert ask.status_code == 200 and "Delete the department 法务部?" in ask.get_data(as_text=True)
    assert _names(project.id) == sorted(["Vânzări", "法务部"])  # asking deletes nothing
    token = csrf_token(client, f"/projects/{project.id}/members")
    kept = client.post(
        f"/projects/{project.id}/departments/{sales}/delete",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "move them to another department first" in kept.get_data(as_text=True)
    gone = client.post(
        f"/projects/{project.id}/departments/{legal}/delete",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "Department deleted." in gone.get_data(as_text=True)
    assert _names(project.id) == ["Vânzări"]


def test_only_the_lead_manages_departments_and_outsiders_get_404(app, client, factory, login_as):
    project, sales, legal = _setup(factory)
    outsider = factory.user("eve")
    other = factory.project(outsider, name="Another rollout")
    login_as("mihai")
    assert client.get(f"/projects/{project.id}/departments/{legal}/delete").status_code == 403
    page = client.get(f"/projects/{project.id}/members").get_data(as_text=True)
    assert "/delete" not in page  # a reviewer sees the departments, not the buttons
    eve = app.test_client()
    assert login(eve, "eve").status_code == 302
    assert eve.get(f"/projects/{project.id}/departments/{legal}/delete").status_code == 404
    # another rollout's department through one's own rollout: 404 as well
    assert eve.get(f"/projects/{other.id}/departments/{legal}/delete").status_code == 404
    assert _names(project.id) == sorted(["Vânzări", "法务部"])


def test_the_api_refuses_a_stale_rename_too(factory, api_as):
    project, sales, _ = _setup(factory)
    lead = db.session.scalar(select(User).where(User.username == "ana"))
    api = api_as(lead)
    path = f"/projects/{project.id}/departments/{sales}"
    assert api.patch(path, {"name": "Vertrieb", "was": "Vânzări"}).status_code == 200
    stale = api.patch(path, {"name": "Sales", "was": "Vânzări"})
    assert stale.status_code == 409 and "Vertrieb" in stale.json["detail"]
    assert api.patch(path, {"name": "Sales"}).status_code == 200  # without `was`: as before
    assert _names(project.id) == sorted(["Sales", "法务部"])
