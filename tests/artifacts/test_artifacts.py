import io

import pytest
from sqlalchemy import func, select

from planner.artifacts import service
from planner.artifacts.models import ArtifactVersion
from planner.core.audit import AuditEvent
from planner.core.errors import ValidationError
from planner.extensions import db
from tests.conftest import csrf_token

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_same_title_makes_a_new_version_and_old_ones_stay(factory):
    lead = factory.user()
    project = factory.project(lead)
    access = factory.access(project, lead)
    v1 = service.upload(
        db.session,
        access,
        title="Vendor proposal",
        phase_key="vendors",
        filename="a.pdf",
        data=PDF,
        max_bytes=10_000,
    )
    v2 = service.upload(
        db.session,
        access,
        title="  vendor   PROPOSAL ",
        phase_key="vendors",
        filename="b.txt",
        data="Preț: 1.000 €\n".encode(),
        max_bytes=10_000,
    )
    db.session.commit()
    assert (v1.artifact_id, v1.number) == (v2.artifact_id, 1) or v2.number == 2
    assert v2.artifact_id == v1.artifact_id and v2.number == 2
    assert v1.content_type == "application/pdf" and v2.content_type == "text/plain"
    old = service.download(db.session, access, v1.artifact_id, 1)
    assert old.data == PDF
    assert service.download(db.session, access, v1.artifact_id).data.startswith("Preț".encode())


def test_type_comes_from_content_not_name(factory):
    lead = factory.user()
    project = factory.project(lead)
    access = factory.access(project, lead)
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
    with pytest.raises(ValidationError, match="not accepted"):
        service.upload(
            db.session,
            access,
            title="t",
            phase_key="goals",
            filename="fine.pdf",
            data=elf,
            max_bytes=10_000,
        )
    with pytest.raises(ValidationError, match="empty"):
        service.upload(
            db.session,
            access,
            title="t",
            phase_key="goals",
            filename="x.txt",
            data=b"",
            max_bytes=10_000,
        )


def test_upload_page_download_and_delete_are_audited(client, factory, login_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    login_as("lead")
    url = f"/projects/{project.id}/artifacts"
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "title": "Minutes 2026-11-20",
            "phase": "goals",
            "file": (io.BytesIO(PDF), "minutes.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    version = db.session.scalar(select(ArtifactVersion))
    dl = client.get(f"{url}/{version.artifact_id}/download")
    assert dl.status_code == 200 and dl.data == PDF
    assert dl.headers["Content-Disposition"].startswith("attachment;")
    assert dl.headers["X-Content-Type-Options"] == "nosniff"
    page = f"{url}/{version.artifact_id}/delete"
    assert "Delete" in client.get(page).get_data(as_text=True)  # confirmation first
    assert client.post(page, data={"csrf_token": csrf_token(client, page)}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ArtifactVersion)) == 0
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"artifact.upload", "artifact.download", "artifact.delete"} <= actions


def test_upload_over_the_limit_gets_413_before_reading(client, factory, login_as, app):
    lead = factory.user("lead")
    project = factory.project(lead)
    login_as("lead")
    url = f"/projects/{project.id}/artifacts"
    token = csrf_token(client, url)
    big = io.BytesIO(b"a" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    resp = client.post(
        url,
        data={"csrf_token": token, "title": "big", "phase": "goals", "file": (big, "big.txt")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(ArtifactVersion)) == 0


def test_an_identical_file_as_a_new_version_is_refused_with_a_message(
    client, factory, login_as, api_as
):
    lead = factory.user("lead")
    project = factory.project(lead)
    login_as("lead")
    url = f"/projects/{project.id}/artifacts"

    def upload(data: bytes, name: str):
        return client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "title": "Interview minutes",
                "phase": "requirements",
                "file": (io.BytesIO(data), name),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )

    minutes = "Întâlnire cu vânzările: 客户投诉流程\n".encode()
    assert upload(minutes, "minutes.txt").status_code == 200
    again = upload(minutes, "minutes-copy.txt")
    text = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "The same file as version 1 (minutes.txt): no new version was made." in text
    assert db.session.scalar(select(func.count()).select_from(ArtifactVersion)) == 1
    assert upload(minutes + b"addendum\n", "minutes.txt").status_code == 200  # a real change
    assert db.session.scalar(select(func.count()).select_from(ArtifactVersion)) == 2
    # The API says the same, as a problem document naming the file field.
    artifact_id = db.session.scalar(select(ArtifactVersion.artifact_id))
    resp = api_as(lead).raw(
        "POST",
        f"/projects/{project.id}/artifacts/{artifact_id}/versions",
        data={"file": (io.BytesIO(minutes + b"addendum\n"), "m.txt")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 409 and "byte for byte" in resp.json["detail"]
    assert resp.json["errors"] == {
        "file": ["The same file as version 2 (minutes.txt): no new version was made."]
    }
    assert db.session.scalar(select(func.count()).select_from(ArtifactVersion)) == 2


def test_a_refused_file_is_named_and_said_in_words(factory):
    lead = factory.user("lead")
    project = factory.project(lead)
    with pytest.raises(ValidationError) as refused:
        service.upload(
            db.session,
            factory.lead_access(project),
            title="Quarterly report",
            phase_key="goals",
            filename="report.pdf",
            data=b"\x7fELF\x02\x01\x01" + b"\0" * 64,
            max_bytes=10_000,
        )
    assert str(refused.value.detail).startswith("“report.pdf” is a program")
    assert "application/" not in refused.value.detail  # no MIME types for people
    assert refused.value.errors == {"file": ["A program: not accepted."]}
