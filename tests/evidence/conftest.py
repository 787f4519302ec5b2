import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.tenancy.roles import RoleId
from tests.factories import IncidentFactory


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
