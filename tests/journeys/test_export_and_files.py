"""What an integrator downloads from a running Vigil: the CSV export holds exactly the rows of the list
with the same filters, for each role; evidence comes back byte for byte; the package verifies."""

import csv
import hashlib
import io
import json
import zipfile

import pytest

from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def group():
    """A group with two departments; incidents of mixed statuses in both, one restricted in Finance."""
    root = TenantFactory(name="Group")
    finance = TenantFactory(name="Finance", parent=root, reference_prefix="FIN")
    engineering = TenantFactory(name="Engineering", parent=root, reference_prefix="ENG")
    for tenant, count in [(finance, 30), (engineering, 10)]:
        for n in range(count):
            status = "declared" if n % 3 else "contained"
            IncidentFactory(tenant=tenant, title=f"Phishing {tenant.name} {n}", status=status)
    IncidentFactory(tenant=finance, title="Board member's mailbox", restricted=True, description="secret")
    people = {}
    for name, tenant, role in [
        ("handler", finance, "handler"),
        ("manager", finance, "manager"),
        ("executive", root, "executive"),
        ("outsider-handler", engineering, "handler"),
    ]:
        people[name] = UserFactory(username=name)
        MembershipFactory(user=people[name], tenant=tenant, role=role)
    return people


def _listed(vigil, token, params: dict) -> list[dict]:
    rows, path = [], "/api/v1/incidents/"
    while path:
        response = vigil.get(path, token=token, params=params if path == "/api/v1/incidents/" else None)
        assert response.status_code == 200, response.text
        rows += response.json()["results"]
        path = response.json()["next"] and response.json()["next"].removeprefix(vigil.url)
    return rows


@pytest.mark.parametrize("role", ["handler", "manager", "executive", "outsider-handler"])
@pytest.mark.parametrize(
    "params", [{}, {"status": "contained"}, {"q": "Phishing"}], ids=["all", "status", "q"]
)
def test_the_export_holds_exactly_the_rows_of_the_list(vigil, group, role, params):
    token = vigil.token(group[role])
    listed = _listed(vigil, token, params)
    response = vigil.get("/api/v1/incidents/export/", token=token, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    exported = list(csv.DictReader(io.StringIO(response.text)))

    assert listed, "the list is empty: the test would prove nothing"
    assert sorted(row["id"] for row in exported) == sorted(row["id"] for row in listed)
    by_id = {row["id"]: row for row in listed}
    for row in exported:
        assert row["title"] == by_id[row["id"]]["title"]
        assert row["status"] == by_id[row["id"]]["status"]


def test_evidence_downloads_byte_for_byte_and_its_package_verifies(vigil, group):
    manager = vigil.token(group["manager"])
    incident = _listed(vigil, manager, {"q": "Phishing"})[0]
    content = b"Received: from mx.example\r\nSubject: invoice\r\n\r\n" + bytes(range(256)) * 64
    uploaded = vigil.post(
        "/api/v1/evidence/",
        token=manager,
        data={"incident": incident["id"], "description": "the phishing e-mail", "source": "person"},
        files={"file": ("invoice.eml", content, "message/rfc822")},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["sha256"] == hashlib.sha256(content).hexdigest()

    download = vigil.get(f"/api/v1/evidence/{uploaded.json()['id']}/download/", token=manager)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["Content-Disposition"].startswith("attachment")

    package = vigil.get(f"/api/v1/incidents/{incident['id']}/evidence-package/", token=manager)
    assert package.status_code == 200, package.text
    assert package.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert [row["name"] for row in manifest["files"]] == ["invoice.eml"]
    for row in manifest["files"]:  # what `sha256sum -c` would check, file by file
        assert hashlib.sha256(archive.read(row["path"])).hexdigest() == row["sha256"]
    assert archive.read(manifest["files"][0]["path"]) == content
    assert package.headers["X-Manifest-SHA256"] == hashlib.sha256(archive.read("manifest.json")).hexdigest()
