from tests.conftest import login


def test_login_and_overview(client, factory):
    lead = factory.user("lead")
    project = factory.project(lead)
    resp = login(client, "lead")
    assert resp.status_code == 302
    for path in [
        "/",
        f"/projects/{project.id}",
        f"/projects/{project.id}/phases/goals",
        f"/projects/{project.id}/goals",
        f"/projects/{project.id}/members",
        f"/projects/{project.id}/artifacts",
        f"/projects/{project.id}/audit",
        f"/projects/{project.id}/settings",
        f"/projects/{project.id}/goals/new",
        f"/projects/{project.id}/goals/vision",
        "/profile",
    ]:
        r = client.get(path)
        assert r.status_code == 200, (path, r.get_data(as_text=True)[:2000])
