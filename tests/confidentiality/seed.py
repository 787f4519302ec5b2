"""Seeding the confidentiality matrix's world, once per module, the way it happens in use.

The restricted incident and its children are written through the services (with their events, so audit
entries, timeline entries, custody, obligations and outbox rows exist); the confidential report, its
attachment and its assessment through the API (so the reporter's address and browser reach the request
like a real one's).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apps.catalog.models import Category
from apps.evidence.models import CustodyEvent, Evidence
from apps.evidence.services import custody_record, evidence_add
from apps.notifications.models import Obligation, WebhookDelivery, WebhookSubscription
from apps.notifications.services import obligation_submit, obligation_waive
from apps.notifications.webhooks import EVENT_TYPES
from apps.reporting.models import Report
from apps.response.actions import action_create
from apps.response.models import IncidentUserObjectPermission, ResponseAction, TimelineEntry
from apps.response.services import incident_declare, incident_grant, incident_transition, incident_update
from apps.response.timeline import timeline_entry_add
from apps.reviews.models import CorrectiveAction, Review
from apps.reviews.services import corrective_action_create, review_complete, review_create
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.models import ApiToken, Membership, hash_token
from apps.tenancy.roles import RoleId
from apps.tenancy.services import token_create
from tests.confidentiality.world import (
    CONFIDENTIAL_REPORTER,
    CONTROL,
    GROUP_EXECUTIVE,
    OUTSIDER,
    PLATFORM_ADMIN,
    REPORTER,
    REPORTER_IP,
    RESTRICTED,
    TENANT_ROLES,
    TWIN_IP,
    Markers,
    World,
    token,
)
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.two_factor import sign_in_verified


def _people(tenant, group, markers: Markers) -> dict[str, Any]:
    users = {}
    for role in TENANT_ROLES:
        users[role] = UserFactory(username=f"conf-{role.replace('_', '-')}")
        MembershipFactory(user=users[role], tenant=tenant, role=role)
    users[GROUP_EXECUTIVE] = UserFactory(username="conf-group-executive")
    MembershipFactory(user=users[GROUP_EXECUTIVE], tenant=group, role=RoleId.EXECUTIVE)
    users[OUTSIDER] = UserFactory(username="conf-outsider")
    users[PLATFORM_ADMIN] = UserFactory(username="conf-root", is_superuser=True, is_staff=True)
    # The confidential reporter is a reporter of the group (it reports in the department it covers), so the
    # department's member directory does not list it: finding its name there would not be a leak.
    username = markers.new(REPORTER, "reporter username")
    reporter = UserFactory(
        username=username,
        first_name=markers.new(REPORTER, "reporter first name").capitalize(),
        last_name=markers.new(REPORTER, "reporter last name").capitalize(),
        email=f"{markers.new(REPORTER, 'reporter e-mail')}@example.org",
    )
    markers.new(REPORTER, "reporter id", str(reporter.pk))
    markers.new(REPORTER, "reporter id without dashes", reporter.pk.hex)
    MembershipFactory(user=reporter, tenant=group, role=RoleId.REPORTER)
    users[CONFIDENTIAL_REPORTER] = reporter
    # Its twin files the same way without confidentiality: its address and browser must be found.
    users["twin"] = UserFactory(username=markers.new(CONTROL, "twin username"))
    MembershipFactory(user=users["twin"], tenant=group, role=RoleId.REPORTER)
    return users


def _restricted_incident(world: World, markers: Markers) -> None:
    """A restricted incident with every kind of child, written by its manager through the services."""
    manager = world.users[RoleId.MANAGER]
    access = access_for(manager)
    # Its own category: `?category=` must not find it for those who may not know it (an oracle).
    category = Category.unscoped.create(tenant=world.tenant, code=f"a0-{token('cat')}", name="Need-to-know")
    world.reports["category"] = category
    with activate(access), transaction.atomic():
        incident = incident_declare(
            actor=manager,
            access=access,
            tenant=world.tenant,
            title="Restricted matter",
            category=category,
            impact="critical",  # P1: escalated to the executives (a notification about it reaches them)
            urgency="critical",
            description=markers.new(RESTRICTED, "description (first version)"),
            restricted=True,
        )
        incident = incident_transition(actor=manager, access=access, incident=incident, to="investigating")
        incident = incident_update(
            actor=manager,
            access=access,
            incident=incident,
            description=markers.new(RESTRICTED, "description"),
            root_cause=markers.new(RESTRICTED, "root cause"),
            personal_data_breach=True,
        )
        for write in (_timeline_and_action, _evidence_and_grant, _review, _obligations):
            write(manager=manager, access=access, incident=incident, markers=markers)
    world.incidents[RESTRICTED] = incident
    _report_joining(world, incident)


def _timeline_and_action(*, manager, access, incident, markers: Markers) -> None:
    timeline_entry_add(
        actor=manager,
        access=access,
        incident=incident,
        kind="observation",
        summary=markers.new(RESTRICTED, "timeline note"),
    )
    timeline_entry_add(
        actor=manager,
        access=access,
        incident=incident,
        kind="communication",
        summary=markers.new(RESTRICTED, "timeline communication"),
        direction="outbound",
        counterpart=markers.new(RESTRICTED, "timeline counterpart"),
        channel="phone",
    )
    action_create(
        actor=manager,
        access=access,
        incident=incident,
        title=markers.new(RESTRICTED, "action title"),
        description=markers.new(RESTRICTED, "action description"),
        assignee=manager,
        due_at=timezone.now() + timedelta(days=2),
    )


def _evidence_and_grant(*, manager, access, incident, markers: Markers) -> None:
    content = f"restricted capture {secrets.token_hex(16)}\n".encode()
    evidence = evidence_add(
        actor=manager,
        access=access,
        incident=incident,
        file=ContentFile(content, name=f"{markers.new(RESTRICTED, 'evidence file name')}.log"),
        description=markers.new(RESTRICTED, "evidence description"),
        source="host",
        location=markers.new(RESTRICTED, "evidence location"),
    )
    markers.new(RESTRICTED, "evidence hash (and storage key)", evidence.sha256[:20])
    custody_record(
        actor=manager,
        access=access,
        evidence=evidence,
        action="transferred",
        from_holder=manager.get_username(),
        to_holder=markers.new(RESTRICTED, "custody holder"),
        purpose=markers.new(RESTRICTED, "custody purpose"),
        location=markers.new(RESTRICTED, "custody location"),
    )
    grantee = UserFactory(username=markers.new(RESTRICTED, "grant recipient username"))
    markers.new(RESTRICTED, "grant recipient id", str(grantee.pk))
    incident_grant(actor=manager, access=access, incident=incident, user=grantee, permission="view")


def _review(*, manager, access, incident, markers: Markers) -> None:
    review = review_create(
        actor=manager,
        access=access,
        incident=incident,
        root_cause=markers.new(RESTRICTED, "review root cause"),
        lessons_learned=markers.new(RESTRICTED, "review lessons"),
    )
    review_complete(actor=manager, access=access, review=review)
    corrective_action_create(
        actor=manager,
        access=access,
        review=review,
        title=markers.new(RESTRICTED, "corrective action title"),
        description=markers.new(RESTRICTED, "corrective action description"),
        owner=manager,
        due_at=timezone.now() + timedelta(days=30),
    )


def _obligations(*, manager, access, incident, markers: Markers) -> None:
    obligations = list(Obligation.unscoped.filter(incident=incident).order_by("due_at"))
    assert len(obligations) >= 2, "a GDPR personal-data breach has obligations"
    obligation_submit(
        actor=manager,
        access=access,
        obligation=obligations[0],
        reference=markers.new(RESTRICTED, "obligation reference"),
        summary=markers.new(RESTRICTED, "obligation summary"),
        copy=ContentFile(b"%PDF-1.4 notice\n", name=f"{markers.new(RESTRICTED, 'notice copy name')}.pdf"),
    )
    obligation_waive(
        actor=manager,
        access=access,
        obligation=obligations[1],
        rationale=markers.new(RESTRICTED, "obligation waiver rationale"),
    )


def _report_joining(world: World, incident) -> None:
    """A member's report that the manager links to the restricted incident: its reporter follows the
    report's outcome without being cleared for the incident."""
    reporter = world.api_client(RoleId.REPORTER)
    filed = reporter.post(
        "/api/v1/reports/",
        {
            "tenant": str(world.tenant.pk),
            "kind": "event",
            "title": "Odd transfer request",
            "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert filed.status_code == 201, filed.content
    linked = world.api_client(RoleId.MANAGER).post(
        f"/api/v1/reports/{filed.json()['id']}/assessment/",
        {
            "decision": "incident",
            "incident": str(incident.pk),
            "category": str(incident.category_id),
            "impact": "critical",
            "urgency": "critical",
            "rationale": "Part of the same matter.",
        },
        format="json",
    )
    assert linked.status_code == 201, linked.content


def _confidential_report(world: World, markers: Markers) -> None:
    """The confidential reporter files through the API from its own address and browser, attaches a file;
    a handler makes it an incident; the attachment joins the incident's evidence."""
    # The marker is the browser's unique part, first, so a shortened display of the user agent is found too.
    user_agent = f"{markers.new(REPORTER, 'reporter user agent')} Mozilla/5.0 (X11; Linux x86_64)"
    markers.new(REPORTER, "reporter address (REMOTE_ADDR)", REPORTER_IP)
    twin_agent = f"{markers.new(CONTROL, 'twin user agent')} Mozilla/5.0 (X11; Linux x86_64)"
    markers.new(CONTROL, "twin address (REMOTE_ADDR)", TWIN_IP)
    phishing = Category.unscoped.get(code="phishing", tenant=None)
    for who, ip, agent, confidential in [
        (CONFIDENTIAL_REPORTER, REPORTER_IP, user_agent, True),
        ("twin", TWIN_IP, twin_agent, False),
    ]:
        client = world.api_client(who)
        client.defaults.update(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
        response = client.post(
            "/api/v1/reports/",
            {
                "tenant": str(world.tenant.pk),
                "kind": "event",
                "title": f"Invoice from an unknown supplier ({who})",
                "description": "It asks for a transfer today.",
                "occurred_at": (timezone.now() - timedelta(hours=2)).isoformat(),
                "confidential": confidential,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        report_id = response.json()["id"]
        upload = client.post(
            "/api/v1/evidence/",
            {"report": report_id, "file": SimpleUploadedFile("invoice.eml", f"From: x\n\n{who}\n".encode())},
            format="multipart",
        )
        assert upload.status_code == 201, upload.content
        handler = world.api_client(RoleId.HANDLER)
        decided = handler.post(
            f"/api/v1/reports/{report_id}/assessment/",
            {
                "decision": "incident",
                "category": str(phishing.pk),
                "impact": "medium",
                "urgency": "medium",
                "rationale": "A transfer was asked for.",
            },
            format="json",
        )
        assert decided.status_code == 201, decided.content
        key = REPORTER if confidential else CONTROL
        world.reports[key] = Report.unscoped.get(pk=report_id)
        world.incidents[key] = world.reports[key].incident
        assert world.incidents[key] is not None
        evidence = Evidence.unscoped.get(report_id=report_id)
        for reader in (client, handler):  # the reporter rereads its attachment, then a handler does
            download = reader.get(f"/api/v1/evidence/{evidence.pk}/download/")
            assert download.status_code in (200, 404), download.status_code
            if download.streaming:
                b"".join(download.streaming_content)  # read to the end: the download is then recorded
    _confidential_report_on_the_web(world, user_agent)


def _confidential_report_on_the_web(world: World, user_agent: str) -> None:
    """The confidential reporter files a second report through the page, from the same browser, with a
    file: it waits in the queue, unassessed."""
    client = sign_in_verified(
        Client(REMOTE_ADDR=REPORTER_IP, HTTP_USER_AGENT=user_agent), world.users[CONFIDENTIAL_REPORTER]
    )
    response = client.post(
        "/report/",
        {
            "tenant": str(world.tenant.pk),
            "title": "A second odd invoice",
            "description": "The same supplier again.",
            "occurred_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "kind": "event",
            "confidential": "on",
            "attachment": SimpleUploadedFile("second.eml", b"From: supplier\n\nPay again\n"),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    filed = Report.unscoped.filter(reporter=world.users[CONFIDENTIAL_REPORTER], confidential=True)
    assert filed.count() == 2, "the page filed the report"


def _shared_incident(world: World) -> None:
    """The outsider's one grant: an ordinary incident of the department."""
    manager = world.users[RoleId.MANAGER]
    access = access_for(manager)
    with activate(access), transaction.atomic():
        incident = incident_declare(
            actor=manager,
            access=access,
            tenant=world.tenant,
            title="Shared with counsel",
            impact="low",
            urgency="low",
        )
        incident_grant(
            actor=manager, access=access, incident=incident, user=world.users[OUTSIDER], permission="view"
        )
    world.incidents[OUTSIDER] = incident


def _department_setup(world: World) -> None:
    """What a department has besides incidents: an authority, a course and a handler's assignment."""
    from apps.catalog.models import Regime
    from apps.notifications.models import Authority, Course, TrainingAssignment

    Authority.unscoped.create(tenant=world.tenant, kind="csirt", name="National CSIRT", jurisdiction="FR")
    Regime.unscoped.create(tenant=world.tenant, code=f"a0-{token('regime')}", name="Sector rules")
    course = Course.unscoped.create(tenant=world.tenant, name="Spotting phishing")
    TrainingAssignment.unscoped.create(
        tenant=world.tenant,
        course=course,
        user=world.users[RoleId.HANDLER],
        due_at=timezone.now() + timedelta(days=14),
    )


def _delivery_attempt(world: World) -> None:
    """The worker's first attempt at one webhook call about the restricted incident (the receiver was
    down): what the delivery log shows its tenant admin."""
    from apps.notifications.models import OutboxMessage

    subscription = WebhookSubscription.unscoped.get(tenant=world.tenant)
    for message in OutboxMessage.objects.filter(tenant=world.tenant, channel="webhook")[:3]:
        WebhookDelivery.unscoped.create(
            tenant=world.tenant,
            subscription=subscription,
            message=message,
            event_type=message.payload.get("event", {}).get("type", "incident.updated"),
            attempt=1,
            status_code=503,
            error="HTTP 503",
        )


def _exports(world: World) -> None:
    """The manager downloads the evidence packages (recorded in custody and the audit trail)."""
    manager = world.api_client(RoleId.MANAGER)
    for key in (RESTRICTED, REPORTER):
        response = manager.get(f"/api/v1/incidents/{world.incidents[key].pk}/evidence-package/")
        assert response.status_code == 200, response.status_code
        b"".join(response.streaming_content)


def _collect_objects(world: World) -> None:
    """The world's objects by the isolation matrix's recipe keys (tests/test_isolation_matrix.py)."""
    from apps.assessment.models import Assessment
    from apps.audit.models import AuditEntry
    from apps.catalog.models import Regime
    from apps.notifications.models import Authority, Course, TrainingAssignment

    tenants = [world.tenant.pk, world.group.pk]
    incidents = [world.incidents[k] for k in (RESTRICTED, REPORTER, CONTROL, OUTSIDER)]
    evidence = list(Evidence.unscoped.filter(tenant_id__in=tenants))
    obligations = list(Obligation.unscoped.filter(tenant_id__in=tenants))
    reviews = list(Review.unscoped.filter(tenant_id__in=tenants))
    webhooks = list(WebhookSubscription.unscoped.filter(tenant_id__in=tenants))
    people = [u for k, u in world.users.items() if k != "twin"]
    world.objects = {
        "tenant": [world.tenant, world.group],
        "user": [*people, world.users["twin"]],
        "membership": list(Membership.unscoped.filter(tenant_id__in=tenants)),
        "incident": incidents,
        "audit": list(AuditEntry.unscoped.filter(tenant_id__in=tenants)),
        "incident-grant": list(IncidentUserObjectPermission.objects.filter(tenant_id__in=tenants)),
        "incident-timeline": [TimelineEntry.unscoped.filter(incident=i).first() for i in incidents],
        "incident-action": list(ResponseAction.unscoped.filter(tenant_id__in=tenants)),
        "review": reviews,
        "review-to-approve": reviews,
        "lesson": reviews,
        "corrective-action": list(CorrectiveAction.unscoped.filter(tenant_id__in=tenants)),
        "report": list(Report.unscoped.filter(tenant_id__in=tenants)),
        "report-assessment": list(Assessment.unscoped.filter(tenant_id__in=tenants)),
        "category": list(Category.unscoped.filter(tenant_id__in=tenants)),
        "regime": list(Regime.unscoped.filter(tenant_id__in=tenants)),
        "obligation": obligations,
        "obligation-to-waive": obligations,
        "obligation-to-anchor": obligations,
        "obligation-with-copy": obligations,
        "authority": list(Authority.unscoped.filter(tenant_id__in=tenants)),
        "webhook": webhooks,
        "webhook-delivery": list(WebhookDelivery.unscoped.filter(tenant_id__in=tenants)),
        "training-course": list(Course.unscoped.filter(tenant_id__in=tenants)),
        "training-assignment": list(TrainingAssignment.unscoped.filter(tenant_id__in=tenants)),
        "evidence": evidence,
        "evidence-to-verify": evidence,
        "evidence-custody": [
            e for e in (CustodyEvent.unscoped.filter(evidence=ev).first() for ev in evidence) if e
        ],
        "evidence-package": evidence,
    }
    # A kind the isolation matrix knows and this world does not seed (a new endpoint): one object of the
    # department made by its recipe, so the new endpoint is read by every viewer from the start.
    from tests.test_isolation_matrix import REGISTRY

    for entry in REGISTRY.values():
        if not world.objects.get(entry.recipe.key):
            world.objects[entry.recipe.key] = [entry.recipe.one(world.tenant)]


def _quiet_token(user) -> str:
    """A token made without its `token.created` audit entry: that the reporter holds an API token says
    nothing about which report it filed, and the entry would name it in the platform's audit chain."""
    key = ApiToken.generate_key()
    ApiToken.objects.create(
        user=user, name="confidentiality matrix", key_hash=hash_token(key), key_prefix=key[:10]
    )
    return key


def seed() -> World:
    markers = Markers()
    group = TenantFactory(name="Confidentiality Group")
    tenant = TenantFactory(name="Confidentiality Department", parent=group)
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    users = _people(tenant, group, markers)
    tokens = {}
    with transaction.atomic():
        for key, user in users.items():
            if key in (CONFIDENTIAL_REPORTER, "twin"):
                tokens[key] = _quiet_token(user)
            else:
                _, tokens[key] = token_create(actor=user, user=user, name="confidentiality matrix")
    world = World(tenant=tenant, group=group, users=users, tokens=tokens, markers=markers.items)
    # A receiver of every event type of the department: its deliveries are outbox rows and delivery logs.
    WebhookSubscription.unscoped.create(
        tenant=tenant,
        url="https://hooks.example.org/vigil",
        events=sorted(EVENT_TYPES),
        secret="whsec_confidentiality-0123456789",
    )
    _department_setup(world)
    _shared_incident(world)
    _restricted_incident(world, markers)
    _confidential_report(world, markers)
    _exports(world)
    _delivery_attempt(world)
    _collect_objects(world)
    return world
