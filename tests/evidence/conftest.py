import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.tenancy.roles import RoleId
from tests.factories import IncidentFactory

MAIL = b"From: payroll-update@example.net\n\nPlease confirm your password here."


@pytest.fixture
def incident(tenant):
    return IncidentFactory(tenant=tenant, title="Ransomware on the file server")


@pytest.fixture
def handler(make_member, tenant):
    return make_member(RoleId.HANDLER, tenant)


@pytest.fixture
def investigator(make_member, tenant):
    return make_member(RoleId.INVESTIGATOR, tenant)


@pytest.fixture
def upload():
    """POST one file as multipart to /evidence/ (the contract's intake)."""

    def post(client, content: bytes, name: str = "capture.log", **fields):
        data = {"file": SimpleUploadedFile(name, content, content_type="text/plain"), **fields}
        data = {key: str(value) if not hasattr(value, "read") else value for key, value in data.items()}
        return client.post(reverse("evidence-list"), data, format="multipart")

    return post


@pytest.fixture
def reporter(make_member, tenant):
    return make_member("reporter", tenant)


@pytest.fixture
def attached(reporter, tenant, api_client_for, upload):
    """A report filed through the API and its attachment, uploaded by the reporter (multipart)."""

    def make(**report_fields):
        client = api_client_for(reporter)
        body = {
            "tenant": str(tenant.pk),
            "kind": "event",
            "title": "Suspicious e-mail asking for my password",
            "occurred_at": "2026-03-02T08:30:00+01:00",
            **report_fields,
        }
        report = client.post("/api/v1/reports/", body, format="json")
        assert report.status_code == 201, report.json()
        response = upload(client, MAIL, name="mail.eml", report=report.json()["id"])
        assert response.status_code == 201, response.json()
        return report.json(), response.json()

    return make
