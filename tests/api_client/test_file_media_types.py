"""Endpoints that answer with a file serve each media type the schema declares for them when a client asks
for it (`Accept`), instead of refusing with 406, and still answer errors in JSON (issue 13, defect 14:
`application/zip` was declared in the schema but not by the endpoint)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

# Committed for real: the audit checkpoints are recorded on the system connection, which sees only that.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "system"])

JSON = "application/json"


def file_answers() -> set[tuple[str, str]]:
    """(path, media type) of every GET whose 200 is not JSON, as the served schema declares them."""
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    return {
        (path, media_type)
        for path, item in schema["paths"].items()
        for media_type in item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        if media_type != JSON
    }


@pytest.fixture
def urls(declare, manager, api_client_for, tenant):
    """A real URL for each file endpoint: an incident with evidence, a GDPR notice submitted with a copy,
    a signed audit checkpoint."""
    client = api_client_for(manager)
    incident = declare()
    patched = client.patch(
        f"/api/v1/incidents/{incident['id']}/",
        {"regimes": ["gdpr"], "rationale": "Customer data"},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    uploaded = client.post(
        "/api/v1/evidence/",
        {"incident": incident["id"], "file": SimpleUploadedFile("mail.log", b"log lines")},
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.json()
    evidence = uploaded.json()
    obligation = client.get("/api/v1/obligations/", {"incident": incident["id"]}).json()["results"][0]
    submitted = client.post(
        f"/api/v1/obligations/{obligation['id']}/submit/",
        {"reference": "CNIL-1", "copy": SimpleUploadedFile("notice.pdf", b"%PDF-1.7")},
        format="multipart",
    )
    assert submitted.status_code == 200, submitted.json()
    from apps.audit.checkpoints import audit_record_chain_heads
    from apps.audit.models import AuditChainHead

    audit_record_chain_heads()
    checkpoint = AuditChainHead.objects.using("system").get(chain=str(tenant.pk)).pk
    return {
        "/api/v1/audit/checkpoints/public-key/": "/api/v1/audit/checkpoints/public-key/",
        "/api/v1/audit/checkpoints/{id}/document/": f"/api/v1/audit/checkpoints/{checkpoint}/document/",
        "/api/v1/audit/checkpoints/{id}/signature/": f"/api/v1/audit/checkpoints/{checkpoint}/signature/",
        "/api/v1/evidence/{id}/download/": f"/api/v1/evidence/{evidence['id']}/download/",
        "/api/v1/obligations/{id}/copy/": f"/api/v1/obligations/{obligation['id']}/copy/",
        "/api/v1/incidents/{incident_pk}/evidence-package/": (
            f"/api/v1/incidents/{incident['id']}/evidence-package/"
        ),
        "/api/v1/incidents/export/": "/api/v1/incidents/export/",
        "/api/v1/compliance/iso27001/": "/api/v1/compliance/iso27001/",
    }


def test_every_declared_file_media_type_is_served_when_asked_for(
    urls, manager, api_client_for, make_member, tenant
):
    client = api_client_for(manager)
    auditor = api_client_for(make_member("auditor", tenant))  # the audit checkpoints are the auditors'
    answers = file_answers()
    assert {path for path, _ in answers} == set(urls)
    assert ("/api/v1/incidents/{incident_pk}/evidence-package/", "application/zip") in answers
    for path, media_type in sorted(answers):
        caller = auditor if path.startswith("/api/v1/audit/") else client
        response = caller.get(urls[path], HTTP_ACCEPT=media_type)
        assert response.status_code == 200, (path, media_type, response.content[:300])
        assert response["Content-Type"].split(";")[0] == media_type, path


def test_without_accept_the_package_is_a_zip(urls, manager, api_client_for):
    package = urls["/api/v1/incidents/{incident_pk}/evidence-package/"]
    response = api_client_for(manager).get(package)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content).startswith(b"PK")


def test_an_error_asked_for_as_a_file_is_json(manager, api_client_for):
    client = api_client_for(manager)
    missing = "00000000-0000-0000-0000-000000000000"
    for url, accept in (
        (f"/api/v1/incidents/{missing}/evidence-package/", "application/zip"),
        (f"/api/v1/evidence/{missing}/download/", "application/octet-stream"),
    ):
        response = client.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 404
        assert response["Content-Type"] == JSON
        assert "detail" in response.json()


def test_a_media_type_the_endpoint_does_not_give_is_406(manager, api_client_for):
    response = api_client_for(manager).get("/api/v1/incidents/export/", HTTP_ACCEPT="application/zip")
    assert response.status_code == 406
    assert response["Content-Type"] == JSON
    assert "detail" in response.json()
