"""The OpenAPI schema generates a working client (issue 13, defect 14): openapi-python-client, run on the
served schema, warns about nothing, every generated module imports, and the generated client alone carries
an incident from a reporter's report to its evidence package, export and webhook, over real HTTP."""

import csv
import importlib
import io
import zipfile
from contextlib import ExitStack
from datetime import UTC, datetime
from http import HTTPStatus

import pytest

from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.two_factor import authenticator_for, totp_code

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory
ATTACHMENT = b"From: it-support@examp1e.org\nSubject: Your mailbox is full\n"
IMAGE = b"\x00\x01disk image bytes\xff" * 64


def test_the_generator_warns_about_nothing(generation):
    assert generation.result.returncode == 0, generation.output
    assert "warning" not in generation.output.lower(), generation.output
    assert "error" not in generation.output.lower(), generation.output


def test_every_generated_module_imports(vigil_client):
    modules = sorted(vigil_client.root.rglob("*.py"))
    assert len(modules) > 100
    for path in modules:
        parts = path.relative_to(vigil_client.root.parent).with_suffix("").parts
        importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


@pytest.fixture
def people():
    tenant = TenantFactory(name="Finance", reference_prefix="FIN")
    roles = ("reporter", "manager", "tenant_admin")
    people = {role: UserFactory(username=f"finance-{role}") for role in roles}
    for role, user in people.items():
        MembershipFactory(user=user, tenant=tenant, role=role)
    return tenant, people


class Session(ExitStack):
    """Calls through the generated client, each checked for the status it documents. Its clients' connections
    close with it (a kept-alive one would hold a live server thread, and its database session, open)."""

    def __init__(self, vigil_client, base_url):
        super().__init__()
        self.generated, self.base_url = vigil_client, base_url

    def sign_in(self, user, *, otp: str | None = None):
        models, unset = self.generated.models, self.generated.types.UNSET
        anonymous = self.generated.Client(base_url=self.base_url, raise_on_unexpected_status=True)
        body = models.TokenRequestRequest(username=user.username, password=PASSWORD, otp=otp or unset)
        with anonymous:
            token = self.call("v1_auth_token_create", HTTPStatus.CREATED, client=anonymous, body=body).token
        client = self.generated.AuthenticatedClient(
            base_url=self.base_url, token=token, prefix="Token", raise_on_unexpected_status=True
        )
        return self.enter_context(client)

    def send(self, operation: str, status: HTTPStatus = HTTPStatus.OK, **arguments):
        """The whole response (status, headers, parsed body)."""
        response = self.generated.endpoint(operation).sync_detailed(**arguments)
        assert response.status_code == status, (operation, response.status_code, response.content[:500])
        return response

    def call(self, operation: str, status: HTTPStatus, **arguments):
        """The parsed body."""
        return self.send(operation, status, **arguments).parsed


def file_report(api, reporter, tenant):
    """A reporter files a report and attaches the e-mail (multipart)."""
    models, File = api.generated.models, api.generated.types.File
    report = api.call(
        "v1_reports_create",
        HTTPStatus.CREATED,
        client=reporter,
        body=models.ReportCreateRequest(
            tenant=tenant.id,
            kind=models.ReportKindEnum.EVENT,
            title="Mailbox-full phishing",
            occurred_at=datetime.now(UTC),
        ),
    )
    attachment = api.call(
        "v1_evidence_create",
        HTTPStatus.CREATED,
        client=reporter,
        body=models.EvidenceCreateRequest(
            report=report.id,
            file=File(payload=io.BytesIO(ATTACHMENT), file_name="phish.eml", mime_type="message/rfc822"),
            description="The e-mail as received",
        ),
    )
    assert attachment.report == report.id
    assert attachment.size == len(ATTACHMENT)
    return report


def open_and_work_incident(api, manager, report):
    """The manager assesses the report as an incident, starts investigating and plans an action."""
    models = api.generated.models
    categories = api.call("v1_categories_list", HTTPStatus.OK, client=manager, page_size=200).results
    phishing = next(category for category in categories if category.code == "phishing")
    assessment = api.call(
        "v1_reports_assessment_create",
        HTTPStatus.CREATED,
        client=manager,
        report_pk=report.id,
        body=models.AssessmentCreateRequest(
            decision=models.DecisionEnum.INCIDENT,
            rationale="Credential harvesting page",
            category=phishing.id,
            impact="high",
            urgency="high",
        ),
    )
    incident = api.call(
        "v1_incidents_transition_create",
        HTTPStatus.OK,
        client=manager,
        id=assessment.incident,
        body=models.TransitionRequest(to=models.IncidentStatusEnum.INVESTIGATING, note="Looking into it"),
    )
    assert incident.status == models.IncidentStatusEnum.INVESTIGATING
    action = api.call(
        "v1_incidents_actions_create",
        HTTPStatus.CREATED,
        client=manager,
        incident_pk=incident.id,
        body=models.ResponseActionCreateRequest(title="Block the sender domain"),
    )
    assert action.title == "Block the sender domain"
    return incident


def collect_and_package_evidence(api, manager, incident):
    """Evidence uploaded (multipart) and downloaded back; the evidence package is a zip holding it."""
    models, File = api.generated.models, api.generated.types.File
    image = File(payload=io.BytesIO(IMAGE), file_name="laptop.img", mime_type="application/octet-stream")
    evidence = api.call(
        "v1_evidence_create",
        HTTPStatus.CREATED,
        client=manager,
        body=models.EvidenceCreateRequest(
            incident=incident.id, file=image, method=models.MethodEnum.DISK_IMAGE
        ),
    )
    downloaded = api.call("v1_evidence_download_retrieve", HTTPStatus.OK, client=manager, id=evidence.id)
    assert downloaded.payload.read() == IMAGE

    package = api.send("v1_incidents_evidence_package_retrieve", client=manager, incident_pk=incident.id)
    assert package.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(package.parsed.payload) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert "manifest.json" in names
        assert any(name.endswith("laptop.img") and archive.read(name) == IMAGE for name in names)
    return evidence


def track_obligations_and_export(api, manager, incident):
    """GDPR applies: the obligations are listed; the export is CSV with the incident's row."""
    models = api.generated.models
    api.call(
        "v1_incidents_partial_update",
        HTTPStatus.OK,
        client=manager,
        id=incident.id,
        body=models.PatchedIncidentUpdateRequest(
            personal_data_breach=True, regimes=["gdpr"], rationale="Mailbox credentials"
        ),
    )
    obligations = api.call("v1_obligations_list", HTTPStatus.OK, client=manager, incident=incident.id).results
    assert obligations
    assert {(obligation.incident, obligation.regime) for obligation in obligations} == {(incident.id, "gdpr")}

    exported = api.send("v1_incidents_export_retrieve", client=manager)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.parsed)))
    assert [(row["reference"], row["status"]) for row in rows] == [(incident.reference, "investigating")]


def subscribe_webhook(api, administrator, tenant):
    """The tenant's administrator subscribes a webhook to incident transitions."""
    models = api.generated.models
    webhook = api.call(
        "v1_webhooks_create",
        HTTPStatus.CREATED,
        client=administrator,
        body=models.WebhookCreateRequest(
            tenant=tenant.id,
            url="https://siem.example.org/hooks/vigil",
            events=[models.EventsEnum.INCIDENT_TRANSITIONED],
        ),
    )
    assert webhook.active is True
    assert webhook.secret


# Operations that answer a list or a document without naming an object: the manager reads them all.
READS = [
    "v1_audit_list",
    "v1_authorities_list",
    "v1_calendar_retrieve",
    "v1_categories_list",
    "v1_compliance_iso27001_retrieve",
    "v1_corrective_actions_list",
    "v1_evidence_list",
    "v1_incidents_list",
    "v1_lessons_list",
    "v1_memberships_list",
    "v1_metrics_retrieve",
    "v1_notification_preferences_list",
    "v1_notifications_list",
    "v1_obligations_list",
    "v1_regimes_list",
    "v1_reports_list",
    "v1_reviews_list",
    "v1_tenants_list",
    "v1_training_assignments_list",
    "v1_training_courses_list",
    "v1_users_list",
]


# Of those, the one a manager is refused (403): the audit trail is the auditors' and administrators'.
MANAGER_MAY_NOT_READ = {"v1_audit_list"}


def read_back(api, manager, report, incident, evidence):
    """What the scenario made reads back into the generated models: the incident's own resources and every
    list the manager may read (a field the schema types wrongly fails to parse here)."""
    Error = api.generated.models.Error
    forbidden = set()
    for operation, arguments in (
        ("v1_incidents_retrieve", {"id": incident.id}),
        ("v1_incidents_timeline_list", {"incident_pk": str(incident.id)}),
        ("v1_incidents_actions_list", {"incident_pk": str(incident.id)}),
        ("v1_reports_assessment_list", {"report_pk": str(report.id)}),
        ("v1_evidence_custody_list", {"evidence_pk": str(evidence.id)}),  # downloaded, exported: recorded
        *((name, {}) for name in READS),
    ):
        response = api.generated.endpoint(operation).sync_detailed(client=manager, **arguments)
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.FORBIDDEN), (
            operation,
            response.content[:300],
        )
        if response.status_code == HTTPStatus.OK:
            assert response.parsed is not None, operation
            assert not isinstance(response.parsed, Error), operation
        else:
            forbidden.add(operation)
    assert forbidden == MANAGER_MAY_NOT_READ  # a 403 anywhere else is a list the manager lost


@pytest.mark.django_db(transaction=True)
def test_report_to_package_export_and_webhook_through_the_generated_client(vigil_client, live_server, people):
    tenant, person = people
    with Session(vigil_client, live_server.url) as api:
        reporter = api.sign_in(person["reporter"])
        manager = api.sign_in(person["manager"], otp=totp_code(authenticator_for(person["manager"])))
        administrator = api.sign_in(
            person["tenant_admin"], otp=totp_code(authenticator_for(person["tenant_admin"]))
        )

        report = file_report(api, reporter, tenant)
        incident = open_and_work_incident(api, manager, report)
        evidence = collect_and_package_evidence(api, manager, incident)
        track_obligations_and_export(api, manager, incident)
        subscribe_webhook(api, administrator, tenant)
        read_back(api, manager, report, incident, evidence)
