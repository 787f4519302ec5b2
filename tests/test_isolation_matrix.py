"""The tenant-isolation matrix, generated from the URL configuration (design rule 1, api-v1 "Errors").

Every URL under /api/v1/ must either be in REGISTRY (a recipe that makes an object of a tenant and the
URL kwargs that reach it) or in EXEMPT with a written reason: a new endpoint fails
`test_every_api_url_is_in_the_matrix` until someone says how to make one of its objects, and from then on
it is covered by every test below without being listed anywhere else.

For every registered URL and every role a member of tenant B may hold:
- a collection (GET -> list) shows none of tenant A's objects, and `?tenant=<A>` answers exactly like
  `?tenant=<random id>`;
- every method routed on a URL that names an object (detail, or a collection nested under an object)
  answers for A's object exactly as for a random id: 404 when the role may use that action at all, and
  the endpoint-level 403 (the same for every id, so it reveals nothing) when it may not. A 403 that only
  A's object gets would be an existence leak and fails here. A's object is unchanged afterwards.
Controls (`test_control_*`) prove each recipe and URL builder is right, so a 404 above is never the
404 of a wrongly built URL.

Outsiders (no membership, one guardian grant) and need-to-know incidents have their own tests below.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.core.events import publish
from apps.response.api.serializers import SUMMARY_FIELDS
from apps.response.models import Incident, IncidentUserObjectPermission, ResponseAction, TimelineEntry
from apps.response.services import incident_grant
from apps.tenancy.access import access_for
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet
from apps.tenancy.context import activate
from apps.tenancy.models import Membership, MembershipRequest, Tenant
from apps.tenancy.roles import ROLES, RoleId
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory, make_evidence

API_PREFIX = "api/v1/"
SAFE_METHODS = {"get", "head", "options"}

# URL names under /api/v1/ that the matrix deliberately does not cover, each with its reason.
EXEMPT: dict[str, str] = {
    "auth-token": (
        "Sign-in (username + password -> token) happens before any tenant exists: it reads no tenant-owned "
        "row and takes no object id, so there is nothing of tenant A to reach. Covered by the auth tests."
    ),
    "compliance-iso27001-list": (
        "Aggregate figures, no object ids to leak; scoped to the caller's overseen tenants. Covered by "
        "tests/insights/test_reports.py::test_another_tenants_figures_stay_out."
    ),
    "calendar": (
        "The caller's own feed URL (GET) and its rotation (POST): takes no object id and reads no tenant's "
        "rows. The feed behind it follows the API's visibility: tests/notifications/test_calendar.py."
    ),
    "metrics-list": (
        "Aggregate figures, no object ids to leak; computed by the same tenant scoping as the ISO report. "
        "Covered by tests/insights/test_reports.py."
    ),
    "notification-list": (
        "Per person, not per tenant: a caller lists only its own notifications, so no recipe can make one "
        "that a fresh witness of the tenant sees. Covered by tests/notifications/test_delivery_api.py "
        "(another person's notification, same or other tenant, is absent from the list and 404)."
    ),
    "notification-detail": "Per person; see notification-list (test_delivery_api.py covers the 404).",
    "notification-read": "Per person; see notification-list (test_delivery_api.py covers the 404).",
    "notification-preference-list": (
        "A person's own settings, owned by no tenant and taking no object id of anyone else (the path names "
        "a notification type). Covered by tests/notifications/test_delivery_api.py."
    ),
    "notification-preference-detail": "A person's own settings; see notification-preference-list.",
    "auth-own-token-list": (
        "A person's own API tokens, owned by no tenant: the list is filtered by the caller, so no recipe can "
        "make one a witness of the tenant sees. Covered by tests/tenancy/test_credentials_end.py (another "
        "person's token is absent from the list and answers 404)."
    ),
    "auth-own-token-detail": "A person's own tokens; see auth-own-token-list.",
    "audit-checkpoint-list": (
        "Signed chain heads are written only by the daily system job on the system connection (the app's "
        "role may not insert them, and that connection sees no row of this matrix's rolled-back "
        "transaction), so no recipe can make one here. Covered by tests/audit/test_checkpoints.py::"
        "test_who_reads_checkpoints (another tenant's checkpoint is absent from the list and answers 404) "
        "and by the row-level security on audit_auditchainhead (tests/audit/test_second_wall.py)."
    ),
    "audit-checkpoint-detail": "Signed chain heads; see audit-checkpoint-list.",
    "audit-checkpoint-document": "Signed chain heads; see audit-checkpoint-list.",
    "audit-checkpoint-signature": "Signed chain heads; see audit-checkpoint-list.",
    "audit-checkpoint-public-key": (
        "The installation's one public key for verifying checkpoints, the same for every tenant: no "
        "tenant's row, no object id (auditors only: tests/audit/test_checkpoints.py)."
    ),
}


# --------------------------------------------------------------------------------------------------
# The URL configuration, walked
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRoute:
    name: str | None
    route: str
    view_class: type | None
    actions: dict[str, str]  # HTTP method -> viewset action, as routed
    kwargs: tuple[str, ...]  # the URL's own keyword arguments (format suffixes left out)

    @property
    def is_collection(self) -> bool:
        return self.actions.get("get") == "list"

    @property
    def names_an_object(self) -> bool:
        return bool(self.kwargs)


def _walk(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_routes() -> dict[str, ApiRoute]:
    """Every named URL under /api/v1/, one entry per name (the router's `.json` suffix twins folded)."""
    routes: dict[str, ApiRoute] = {}
    for route, pattern in _walk(get_resolver()):
        if not route.startswith(API_PREFIX):
            continue
        groups = tuple(pattern.pattern.regex.groupindex)
        if "format" in groups:
            continue  # format-suffix twin of a route listed without it
        name = pattern.name or f"<unnamed {route}>"
        callback = pattern.callback
        routes[name] = ApiRoute(
            name=name,
            route=route,
            view_class=getattr(callback, "cls", None) or getattr(callback, "view_class", None),
            actions=dict(getattr(callback, "actions", None) or {}),
            kwargs=groups,
        )
    return routes


# --------------------------------------------------------------------------------------------------
# Recipes: how to make an object of tenant X, and the URL kwargs that reach it
# --------------------------------------------------------------------------------------------------


def _publish_probe(tenant: Tenant) -> AuditEntry:
    with transaction.atomic():
        publish(verb="isolation.probe", actor=None, target=tenant, tenant_id=tenant.id)
    return AuditEntry.unscoped.filter(tenant=tenant).latest("id")


def _grant_row(
    incident: Incident, user=None, codename: str = "view_incident"
) -> IncidentUserObjectPermission:
    permission = Permission.objects.get(content_type__app_label="response", codename=codename)
    return IncidentUserObjectPermission.objects.create(
        content_object=incident,
        user=user or UserFactory(),
        permission=permission,
        tenant_id=incident.tenant_id,
    )


def _member_of(tenant: Tenant):
    user = UserFactory()
    MembershipFactory(user=user, tenant=tenant, role=RoleId.REPORTER)
    return user


@dataclass(frozen=True)
class Recipe:
    key: str
    # A role of the owning tenant that does see the objects (the controls use it).
    witness_role: str
    # make(tenant, container) -> an object owned by `tenant` (inside `container` when the list is nested).
    make: Callable[[Tenant, Any], Any]
    # container(tenant) -> what the collection is nested under (None for top-level collections).
    container: Callable[[Tenant], Any] = lambda tenant: None
    # A plausible body for writes against the object (a write aimed at another tenant's object).
    write_body: Callable[[Any, Any], dict] = lambda obj, actor: {}
    # Ids in a listing that would betray tenant X besides the object itself (e.g. the tenant itself).
    extra_forbidden: Callable[[Tenant], set[str]] = lambda tenant: set()

    def one(self, tenant: Tenant):
        return self.make(tenant, self.container(tenant))


TENANTS = Recipe(
    key="tenant",
    witness_role=RoleId.REPORTER,
    # A department of X (within X's subtree): X's members read it, nobody else does.
    make=lambda tenant, container: TenantFactory(parent=tenant),
    write_body=lambda obj, actor: {"name": "Taken over"},
    extra_forbidden=lambda tenant: {str(tenant.pk)},
)
USERS = Recipe(
    key="user",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: _member_of(tenant),
    write_body=lambda obj, actor: {"first_name": "Taken over", "is_active": False},
)
MEMBERSHIPS = Recipe(
    key="membership",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: MembershipFactory(tenant=tenant, role=RoleId.REPORTER),
    write_body=lambda obj, actor: {"role": RoleId.MANAGER},
)


def _pending_self_promotion(tenant: Tenant):
    """A tenant admin of X asking to become manager of X (four-eyes, apps/tenancy/four_eyes.py)."""
    user = UserFactory()
    MembershipFactory(user=user, tenant=tenant, role=RoleId.TENANT_ADMIN)
    return MembershipRequest.unscoped.create(
        tenant=tenant, user=user, role=RoleId.MANAGER, previous_role=RoleId.TENANT_ADMIN, requested_by=user
    )


MEMBERSHIP_REQUESTS = Recipe(
    key="membership-request",
    witness_role=RoleId.TENANT_ADMIN,
    make=lambda tenant, container: _pending_self_promotion(tenant),
)
INCIDENTS = Recipe(
    key="incident",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: IncidentFactory(tenant=tenant),
    write_body=lambda obj, actor: {"title": "Taken over"},
)
AUDIT_ENTRIES = Recipe(
    key="audit",
    witness_role=RoleId.AUDITOR,
    make=lambda tenant, container: _publish_probe(tenant),
)
INCIDENT_GRANTS = Recipe(
    key="incident-grant",
    witness_role=RoleId.MANAGER,
    container=lambda tenant: IncidentFactory(tenant=tenant),
    make=lambda tenant, incident: _grant_row(incident),
    # The attack that matters: a manager of B granting itself `change` on A's incident.
    write_body=lambda obj, actor: {"user": str(actor.pk), "permission": "change"},
)


TIMELINE = Recipe(
    key="incident-timeline",
    witness_role=RoleId.HANDLER,
    container=lambda tenant: IncidentFactory(tenant=tenant),
    make=lambda tenant, incident: TimelineEntry.unscoped.create(
        tenant=tenant,
        incident=incident,
        at=timezone.now(),
        kind="observation",
        verb="timeline.noted",
        actor_repr="probe",
        summary="Observed something",
    ),
    write_body=lambda obj, actor: {
        "kind": "observation",
        "summary": "Planted",
        "at": timezone.now().isoformat(),
    },
)
RESPONSE_ACTIONS = Recipe(
    key="incident-action",
    witness_role=RoleId.HANDLER,
    container=lambda tenant: IncidentFactory(tenant=tenant),
    make=lambda tenant, incident: ResponseAction.unscoped.create(
        tenant=tenant, incident=incident, title="Isolate the host"
    ),
    write_body=lambda obj, actor: {"title": "Taken over"},
)


def _report(tenant: Tenant):
    from apps.reporting.models import Report

    return Report.unscoped.create(
        tenant=tenant,
        reference=f"PROBE-R-{uuid.uuid4().hex[:12]}",
        kind="event",
        title="Probe report",
        occurred_at=timezone.now(),
        reporter=UserFactory(),
        channel="api",
        received_at=timezone.now(),
    )


def _assessment(tenant: Tenant, report):
    from apps.assessment.models import Assessment

    return Assessment.unscoped.create(
        tenant=tenant,
        report=report,
        decided_by=UserFactory(),
        decided_at=timezone.now(),
        decision="not_incident",
        rationale="Probe",
    )


def _category(tenant: Tenant):
    from apps.catalog.models import Category

    # "a0-" sorts before the shipped codes, so the tenant's rows are on the first page.
    return Category.unscoped.create(tenant=tenant, code=f"a0-probe-{uuid.uuid4().hex[:8]}", name="Probe")


def _review(tenant: Tenant, status: str = "draft"):
    from apps.reviews.models import Review

    return Review.unscoped.create(
        tenant=tenant,
        incident=IncidentFactory(tenant=tenant),
        status=status,
        root_cause="Unpatched VPN",
        lessons_learned="Patch edge devices",
        completed_at=timezone.now() if status == "completed" else None,
    )


def _corrective_action(tenant: Tenant, review):
    from apps.reviews.models import CorrectiveAction

    return CorrectiveAction.unscoped.create(tenant=tenant, review=review, title="Patch the VPN")


REVIEWS = Recipe(
    key="review",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: _review(tenant),
    write_body=lambda obj, actor: {"root_cause": "Taken over"},
)
REVIEWS_TO_APPROVE = Recipe(
    key="review-to-approve", witness_role=RoleId.MANAGER, make=lambda tenant, container: _review(tenant)
)
LESSONS = Recipe(
    key="lesson",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: _review(tenant, status="completed"),
)
CORRECTIVE_ACTIONS = Recipe(
    key="corrective-action",
    witness_role=RoleId.HANDLER,
    container=lambda tenant: _review(tenant),
    make=_corrective_action,
    write_body=lambda obj, actor: {"status": "in_progress"},
)
REPORTS = Recipe(
    key="report",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: _report(tenant),
    write_body=lambda obj, actor: {"title": "Taken over"},
)
ASSESSMENTS = Recipe(
    key="report-assessment",
    witness_role=RoleId.HANDLER,
    container=lambda tenant: _report(tenant),
    make=_assessment,
    write_body=lambda obj, actor: {"decision": "not_incident", "rationale": "Taken over"},
)
CATEGORIES = Recipe(
    key="category",
    witness_role=RoleId.REPORTER,
    make=lambda tenant, container: _category(tenant),
    write_body=lambda obj, actor: {"name": "Taken over"},
)


def _regime(tenant: Tenant):
    from apps.catalog.models import Regime

    # "a0-" sorts before the shipped codes, so the tenant's rows are on the first page.
    return Regime.unscoped.create(tenant=tenant, code=f"a0-probe-{uuid.uuid4().hex[:8]}", name="Probe")


def _obligation(tenant: Tenant):
    from datetime import timedelta

    from apps.catalog.models import RegimeStep
    from apps.notifications.models import Obligation

    step = RegimeStep.unscoped.get(tenant=None, code="GDPR-2")
    incident = IncidentFactory(tenant=tenant, regimes=["gdpr"], aware_at=timezone.now())
    return Obligation.unscoped.create(
        tenant=tenant,
        incident=incident,
        regime="gdpr",
        step=step,
        notice=step.notice,
        recipient="Supervisory authority",
        clock_started_at=incident.aware_at,
        due_at=incident.aware_at + timedelta(hours=72),
    )


def _manual_obligation(tenant: Tenant):
    from apps.catalog.models import RegimeStep
    from apps.notifications.models import Obligation

    step = RegimeStep.unscoped.get(tenant=None, code="AU-2")  # anchor_source manual
    incident = IncidentFactory(tenant=tenant, regimes=["au-ndb"])
    return Obligation.unscoped.create(
        tenant=tenant, incident=incident, regime="au-ndb", step=step, notice=step.notice, recipient="OAIC"
    )


def _obligation_with_copy(tenant: Tenant):
    from django.core.files.base import ContentFile

    from apps.notifications.copies import store_copy

    obligation = _obligation(tenant)
    stored = store_copy(tenant_id=tenant.pk, file=ContentFile(b"notice as sent", name="notice.pdf"))
    obligation.status = "submitted"
    obligation.submitted_at = timezone.now()
    obligation.copy_name, obligation.copy_sha256 = stored.name, stored.sha256
    obligation.copy_size, obligation.copy_storage_key = stored.size, stored.storage_key
    obligation.save()
    return obligation


def _authority(tenant: Tenant):
    from apps.notifications.models import Authority

    return Authority.unscoped.create(tenant=tenant, kind="csirt", name="Probe CSIRT", jurisdiction="FR")


REGIMES = Recipe(
    key="regime",
    witness_role=RoleId.REPORTER,
    make=lambda tenant, container: _regime(tenant),
    write_body=lambda obj, actor: {"name": "Taken over", "enabled": False},
)
OBLIGATIONS = Recipe(
    key="obligation",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: _obligation(tenant),
    write_body=lambda obj, actor: {"reference": "Taken over", "summary": "Planted"},
)
OBLIGATIONS_TO_WAIVE = Recipe(
    key="obligation-to-waive",
    witness_role=RoleId.MANAGER,
    make=lambda tenant, container: _obligation(tenant),
    write_body=lambda obj, actor: {"rationale": "Taken over"},
)
OBLIGATIONS_TO_ANCHOR = Recipe(
    key="obligation-to-anchor",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: _manual_obligation(tenant),
    write_body=lambda obj, actor: {"anchor_at": timezone.now().isoformat(), "rationale": "Taken over"},
)
OBLIGATIONS_WITH_COPY = Recipe(
    key="obligation-with-copy",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: _obligation_with_copy(tenant),
    write_body=lambda obj, actor: {},
)
AUTHORITIES = Recipe(
    key="authority",
    witness_role=RoleId.REPORTER,
    make=lambda tenant, container: _authority(tenant),
    write_body=lambda obj, actor: {"name": "Taken over"},
)


def _webhook(tenant: Tenant):
    from apps.notifications.models import WebhookSubscription

    return WebhookSubscription.unscoped.create(
        tenant=tenant,
        url="https://hooks.example.org/vigil",
        events=["incident.declared"],
        secret="whsec_probe-secret-0123456789",
    )


def _webhook_delivery(tenant: Tenant, subscription):
    from apps.notifications.models import OutboxMessage, WebhookDelivery

    message = OutboxMessage.objects.create(
        tenant=tenant,
        channel="webhook",
        recipient=subscription.url,
        payload={"subscription": str(subscription.pk), "event": {"type": "incident.declared"}},
    )
    return WebhookDelivery.unscoped.create(
        tenant=tenant,
        subscription=subscription,
        message=message,
        event_type="incident.declared",
        attempt=1,
        status_code=500,
        error="HTTP 500",
    )


WEBHOOKS = Recipe(
    key="webhook",
    witness_role=RoleId.TENANT_ADMIN,
    make=lambda tenant, container: _webhook(tenant),
    write_body=lambda obj, actor: {"url": "https://attacker.example.org/", "active": False},
)
WEBHOOK_DELIVERIES = Recipe(
    key="webhook-delivery",
    witness_role=RoleId.TENANT_ADMIN,
    container=lambda tenant: _webhook(tenant),
    make=_webhook_delivery,
)


def _course(tenant: Tenant):
    from apps.notifications.models import Course

    return Course.unscoped.create(tenant=tenant, name=f"Probe course {uuid.uuid4().hex[:8]}")


def _assignment(tenant: Tenant):
    from datetime import timedelta

    from apps.notifications.models import TrainingAssignment

    return TrainingAssignment.unscoped.create(
        tenant=tenant,
        course=_course(tenant),
        user=_member_of(tenant),
        due_at=timezone.now() + timedelta(days=30),
    )


COURSES = Recipe(
    key="training-course",
    witness_role=RoleId.REPORTER,
    make=lambda tenant, container: _course(tenant),
    write_body=lambda obj, actor: {"name": "Taken over", "mandatory": True},
)
ASSIGNMENTS = Recipe(
    key="training-assignment",
    witness_role=RoleId.TENANT_ADMIN,
    make=lambda tenant, container: _assignment(tenant),
)


def _custody_event(tenant: Tenant, evidence):
    from apps.evidence.models import CustodyEvent

    return CustodyEvent.unscoped.create(
        tenant=tenant,
        evidence=evidence,
        action="sealed",
        at=timezone.now(),
        actor_repr="probe",
        to_holder="Evidence locker",
    )


EVIDENCE = Recipe(
    key="evidence",
    witness_role=RoleId.HANDLER,
    make=lambda tenant, container: make_evidence(IncidentFactory(tenant=tenant)),
)
EVIDENCE_TO_VERIFY = Recipe(
    key="evidence-to-verify",
    witness_role=RoleId.INVESTIGATOR,
    make=lambda tenant, container: make_evidence(IncidentFactory(tenant=tenant)),
)
CUSTODY = Recipe(
    key="evidence-custody",
    witness_role=RoleId.HANDLER,
    container=lambda tenant: make_evidence(IncidentFactory(tenant=tenant)),
    make=_custody_event,
    # The attack that matters: an investigator of B writing into the custody log of A's evidence.
    write_body=lambda obj, actor: {"action": "transferred", "from_holder": "A", "to_holder": "B"},
)
EVIDENCE_PACKAGES = Recipe(
    key="evidence-package",
    witness_role=RoleId.INVESTIGATOR,
    make=lambda tenant, container: make_evidence(IncidentFactory(tenant=tenant)),
)


@dataclass(frozen=True)
class Entry:
    recipe: Recipe
    # URL kwargs for an object (for a collection: of the collection the object is in).
    kwargs: Callable[[Any], dict] = lambda obj: {}
    # For top-level POST: a body that names tenant `tenant` as the new object's tenant.
    create_body: Callable[[Tenant, Any], dict] | None = None
    # Body for writes on this URL when it differs from the recipe's (e.g. an action like /transition/).
    write_body: Callable[[Any, Any], dict] | None = None

    def body(self, obj, actor) -> dict:
        return (self.write_body or self.recipe.write_body)(obj, actor)


def _pk(obj) -> dict:
    return {"pk": obj.pk}


REGISTRY: dict[str, Entry] = {
    "report-list": Entry(
        REPORTS,
        create_body=lambda tenant, actor: {
            "tenant": str(tenant.pk),
            "kind": "event",
            "title": "Planted",
            "occurred_at": timezone.now().isoformat(),
        },
    ),
    "report-detail": Entry(REPORTS, _pk),
    "report-assessment-list": Entry(ASSESSMENTS, lambda assessment: {"report_pk": assessment.report_id}),
    "category-list": Entry(
        CATEGORIES,
        create_body=lambda tenant, actor: {
            "tenant": str(tenant.pk),
            "code": f"planted-{uuid.uuid4().hex[:8]}",
            "name": "Planted",
        },
    ),
    "category-detail": Entry(CATEGORIES, _pk),
    "regime-list": Entry(
        REGIMES,
        create_body=lambda tenant, actor: {
            "tenant": str(tenant.pk),
            "code": f"planted-{uuid.uuid4().hex[:8]}",
            "name": "Planted",
        },
    ),
    "regime-detail": Entry(REGIMES, _pk),
    "obligation-list": Entry(OBLIGATIONS),
    "obligation-detail": Entry(OBLIGATIONS, _pk),
    "obligation-submit": Entry(OBLIGATIONS, _pk),
    "obligation-waive": Entry(OBLIGATIONS_TO_WAIVE, _pk),
    "obligation-anchor": Entry(OBLIGATIONS_TO_ANCHOR, _pk),
    "obligation-copy": Entry(OBLIGATIONS_WITH_COPY, _pk),
    "authority-list": Entry(
        AUTHORITIES,
        create_body=lambda tenant, actor: {
            "tenant": str(tenant.pk),
            "kind": "csirt",
            "name": "Planted",
            "jurisdiction": "FR",
        },
    ),
    "authority-detail": Entry(AUTHORITIES, _pk),
    "training-course-list": Entry(
        COURSES,
        create_body=lambda tenant, actor: {"tenant": str(tenant.pk), "name": "Planted", "mandatory": True},
    ),
    "training-course-detail": Entry(COURSES, _pk),
    "training-assignment-list": Entry(ASSIGNMENTS),
    "training-assignment-detail": Entry(ASSIGNMENTS, _pk),
    "training-assignment-complete": Entry(ASSIGNMENTS, _pk),
    "webhook-list": Entry(
        WEBHOOKS,
        create_body=lambda tenant, actor: {
            "tenant": str(tenant.pk),
            "url": "https://attacker.example.org/",
            "events": ["incident.declared"],
        },
    ),
    "webhook-detail": Entry(WEBHOOKS, _pk),
    "webhook-delivery-list": Entry(
        WEBHOOK_DELIVERIES, lambda delivery: {"webhook_pk": delivery.subscription_id}
    ),
    "review-list": Entry(REVIEWS),
    "review-detail": Entry(REVIEWS, _pk),
    "review-complete": Entry(REVIEWS_TO_APPROVE, _pk, write_body=lambda obj, actor: {}),
    "review-action-list": Entry(CORRECTIVE_ACTIONS, lambda action: {"review_pk": action.review_id}),
    "review-action-detail": Entry(
        CORRECTIVE_ACTIONS, lambda action: {"review_pk": action.review_id, "pk": action.pk}
    ),
    "corrective-action-list": Entry(CORRECTIVE_ACTIONS),
    "lesson-list": Entry(LESSONS),
    "tenant-list": Entry(TENANTS),
    "tenant-detail": Entry(TENANTS, _pk),
    "user-list": Entry(
        USERS,
        create_body=lambda tenant, actor: {
            "username": f"planted-{uuid.uuid4().hex[:8]}",
            "password": "a-long-enough-passphrase-42",
            "tenant": str(tenant.pk),
            "role": RoleId.REPORTER,
        },
    ),
    "user-detail": Entry(USERS, _pk),
    "membership-list": Entry(
        MEMBERSHIPS,
        create_body=lambda tenant, actor: {
            "user": str(actor.pk),
            "tenant": str(tenant.pk),
            "role": RoleId.MANAGER,
        },
    ),
    "membership-detail": Entry(MEMBERSHIPS, _pk),
    "membership-request-list": Entry(MEMBERSHIP_REQUESTS),
    "membership-request-detail": Entry(MEMBERSHIP_REQUESTS, _pk),
    "membership-request-approve": Entry(MEMBERSHIP_REQUESTS, _pk),
    "membership-request-refuse": Entry(MEMBERSHIP_REQUESTS, _pk),
    "incident-list": Entry(INCIDENTS),
    "incident-export": Entry(INCIDENTS),
    "incident-detail": Entry(INCIDENTS, _pk),
    "incident-transition": Entry(
        INCIDENTS, _pk, write_body=lambda obj, actor: {"to": "investigating", "note": "Taken over"}
    ),
    "incident-timeline-list": Entry(TIMELINE, lambda entry: {"incident_pk": entry.incident_id}),
    "incident-action-list": Entry(RESPONSE_ACTIONS, lambda action: {"incident_pk": action.incident_id}),
    "incident-action-detail": Entry(
        RESPONSE_ACTIONS, lambda action: {"incident_pk": action.incident_id, "pk": action.pk}
    ),
    "audit-list": Entry(AUDIT_ENTRIES),
    "audit-detail": Entry(AUDIT_ENTRIES, _pk),
    "evidence-list": Entry(EVIDENCE),
    "evidence-detail": Entry(EVIDENCE, _pk),
    "evidence-download": Entry(EVIDENCE, _pk),
    "evidence-verify": Entry(EVIDENCE_TO_VERIFY, _pk),
    "evidence-custody-list": Entry(CUSTODY, lambda event: {"evidence_pk": event.evidence_id}),
    "incident-evidence-package": Entry(
        EVIDENCE_PACKAGES, lambda evidence: {"incident_pk": evidence.incident_id}
    ),
    "incident-grant-list": Entry(INCIDENT_GRANTS, lambda grant: {"incident_pk": grant.content_object_id}),
    "incident-grant-detail": Entry(
        INCIDENT_GRANTS, lambda grant: {"incident_pk": grant.content_object_id, "pk": grant.pk}
    ),
}

ROUTES = api_routes()
B_ROLES = [role.value for role in RoleId]  # every role a member of B may hold
TOPOLOGIES = ["unrelated", "a_is_parent_of_b"]


def _registered(predicate) -> list[ApiRoute]:
    return [route for name, route in sorted(ROUTES.items()) if name in REGISTRY and predicate(route)]


COLLECTIONS = _registered(lambda route: route.is_collection)
OBJECT_ROUTES = _registered(lambda route: route.names_an_object)
OBJECT_CALLS = [(route, method) for route in OBJECT_ROUTES for method in sorted(route.actions)]
TOP_LEVEL_CREATES = _registered(
    lambda route: not route.kwargs and "post" in route.actions and REGISTRY[route.name].create_body
)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _reaches(role: str, route: ApiRoute, method: str) -> bool:
    """Whether a member holding `role` passes the endpoint-level scope check of this action."""
    scope = route.view_class.action_scopes.get(route.actions[method])
    return scope == AUTHENTICATED or scope in ROLES[role].scopes


def _random_like(value):
    if isinstance(value, int):
        return random.randint(2**40, 2**52)
    return uuid.uuid4()


def _ids(response) -> set[str]:
    if response.get("Content-Type", "").startswith("text/csv"):  # exports list the same rows as CSV
        body = b"".join(response.streaming_content).decode()
        return {row["id"] for row in csv.DictReader(io.StringIO(body))}
    return {str(row["id"]) for row in response.json()["results"]}


def _call(client, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(url, body or {}, format="json") if method != "get" else client.get(url)


def _snapshot(obj) -> dict | None:
    row = type(obj)._base_manager.filter(pk=obj.pk).first()
    if row is None:
        return None
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def _body(response):
    try:
        return response.json()
    except ValueError:
        return response.content


@pytest.fixture(params=TOPOLOGIES)
def tenants(request, db):
    """(A, B): B's members must see nothing of A; in the second topology A is B's parent (a membership
    covers descendants, never ancestors)."""
    a = TenantFactory(name="Tenant A")
    b = TenantFactory(name="Tenant B", parent=a if request.param == "a_is_parent_of_b" else None)
    return a, b


# --------------------------------------------------------------------------------------------------
# Meta: every /api/v1/ URL is in the matrix
# --------------------------------------------------------------------------------------------------


def test_every_api_url_is_in_the_matrix():
    unlisted = sorted(name for name in ROUTES if name not in REGISTRY and name not in EXEMPT)
    assert not unlisted, (
        f"/api/v1/ URLs with no isolation recipe: {unlisted}. Add a Recipe/Entry to REGISTRY in "
        f"{__file__} (how to make an object of a tenant and the URL kwargs that reach it), or an EXEMPT "
        "entry with the reason it cannot leak another tenant's rows."
    )
    stale = sorted((set(REGISTRY) | set(EXEMPT)) - set(ROUTES))
    assert not stale, f"REGISTRY/EXEMPT name URLs that no longer exist: {stale}"
    assert not set(REGISTRY) & set(EXEMPT), "a URL is both registered and exempt"


def test_every_registered_url_is_a_tenant_scoped_viewset():
    for name in REGISTRY:
        route = ROUTES[name]
        assert route.view_class is not None, name
        assert issubclass(route.view_class, TenantScopedViewSet), name
        missing = {
            action for action in route.actions.values() if action not in route.view_class.action_scopes
        }
        assert not missing, f"{name}: routed actions without a scope (always refused): {missing}"


# --------------------------------------------------------------------------------------------------
# Controls: the recipes and URL builders are right
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", COLLECTIONS, ids=lambda r: r.name)
def test_control_owner_lists_its_object(route, db, make_member, api_client_for):
    entry = REGISTRY[route.name]
    tenant = TenantFactory()
    obj = entry.recipe.one(tenant)
    client = api_client_for(make_member(entry.recipe.witness_role, tenant))
    response = client.get(reverse(route.name, kwargs=entry.kwargs(obj)))
    assert response.status_code == 200, _body(response)
    assert str(obj.pk) in _ids(response)


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
def test_control_owner_reaches_its_object(route, db, make_member, api_client_for):
    entry = REGISTRY[route.name]
    tenant = TenantFactory()
    obj = entry.recipe.one(tenant)
    user = make_member(entry.recipe.witness_role, tenant)
    method = "get" if "get" in route.actions else sorted(route.actions)[0]
    body = entry.body(obj, user) if method not in SAFE_METHODS else None
    response = _call(api_client_for(user), method, reverse(route.name, kwargs=entry.kwargs(obj)), body)
    assert response.status_code < 400, (method, _body(response))


# --------------------------------------------------------------------------------------------------
# The matrix
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", B_ROLES)
@pytest.mark.parametrize("route", COLLECTIONS, ids=lambda r: r.name)
def test_list_shows_nothing_of_another_tenant(route, role, tenants, make_member, api_client_for):
    a, b = tenants
    entry = REGISTRY[route.name]
    theirs = entry.recipe.one(a)
    ours = entry.recipe.one(b)
    client = api_client_for(make_member(role, b))

    response = client.get(reverse(route.name, kwargs=entry.kwargs(ours)))

    if not _reaches(role, route, "get"):
        expected = {403}
    elif route.kwargs:
        expected = {200, 404}  # nested: 404 when the role does not see even B's own parent object
    else:
        expected = {200}
    assert response.status_code in expected, _body(response)
    if response.status_code == 200:
        forbidden = {str(theirs.pk)} | entry.recipe.extra_forbidden(a)
        leaked = _ids(response) & forbidden
        assert not leaked, f"{route.name} shows {role} of B rows of tenant A: {leaked}"


@pytest.mark.parametrize("role", B_ROLES)
@pytest.mark.parametrize(
    "route", _registered(lambda r: r.is_collection and not r.kwargs), ids=lambda r: r.name
)
def test_narrowing_to_another_tenant_answers_like_an_unknown_one(
    route, role, tenants, make_member, api_client_for
):
    a, b = tenants
    REGISTRY[route.name].recipe.one(a)
    client = api_client_for(make_member(role, b))
    url = reverse(route.name)

    theirs = client.get(url, {"tenant": str(a.pk)})
    unknown = client.get(url, {"tenant": str(uuid.uuid4())})

    assert theirs.status_code == unknown.status_code
    assert _body(theirs) == _body(unknown)
    assert theirs.status_code in (400, 403), _body(theirs)


@pytest.mark.parametrize("role", B_ROLES)
@pytest.mark.parametrize(
    ("route", "method"), OBJECT_CALLS, ids=lambda v: v.name if isinstance(v, ApiRoute) else v.upper()
)
def test_object_of_another_tenant_answers_like_a_missing_one(
    route, method, role, tenants, make_member, api_client_for
):
    a, b = tenants
    entry = REGISTRY[route.name]
    theirs = entry.recipe.one(a)
    user = make_member(role, b)
    client = api_client_for(user)
    kwargs = entry.kwargs(theirs)
    random_kwargs = {key: _random_like(value) for key, value in kwargs.items()}
    body = entry.body(theirs, user) if method not in SAFE_METHODS else None
    before = _snapshot(theirs)

    response = _call(client, method, reverse(route.name, kwargs=kwargs), body)
    missing = _call(client, method, reverse(route.name, kwargs=random_kwargs), body)

    expected = 404 if _reaches(role, route, method) else 403
    assert response.status_code == expected, (
        f"{method.upper()} {route.name} on tenant A's object as {role} of B: {response.status_code} "
        f"{_body(response)} (expected {expected}: 404, or the endpoint-level 403 every id gets)"
    )
    assert (missing.status_code, _body(missing)) == (response.status_code, _body(response)), (
        "tenant A's object answers differently from a missing one: existence leak"
    )
    assert _snapshot(theirs) == before, f"{method.upper()} {route.name} changed tenant A's object"


@pytest.mark.parametrize("role", [RoleId.MANAGER])
def test_grant_of_another_tenant_is_404_under_an_own_incident(role, tenants, make_member, api_client_for):
    """The nested lookup must key on both ids: A's grant id under B's own incident is not reachable."""
    a, b = tenants
    theirs = INCIDENT_GRANTS.one(a)
    own_incident = IncidentFactory(tenant=b)
    client = api_client_for(make_member(role, b))

    response = client.delete(
        reverse("incident-grant-detail", kwargs={"incident_pk": own_incident.pk, "pk": theirs.pk})
    )

    assert response.status_code == 404, _body(response)
    assert IncidentUserObjectPermission.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("role", B_ROLES)
@pytest.mark.parametrize("route", TOP_LEVEL_CREATES, ids=lambda r: r.name)
def test_create_naming_another_tenant_answers_like_an_unknown_one(
    route, role, tenants, make_member, api_client_for
):
    """A write names its tenant in the body: naming A must fail exactly like naming no tenant at all."""
    a, b = tenants
    entry = REGISTRY[route.name]
    user = make_member(role, b)
    client = api_client_for(user)
    members_of_a = Membership.unscoped.filter(tenant=a).count()
    url = reverse(route.name)

    theirs = client.post(url, entry.create_body(a, user), format="json")
    bogus_id = uuid.uuid4()
    unknown = client.post(url, entry.create_body(Tenant(pk=bogus_id), user), format="json")

    assert theirs.status_code in (400, 403), _body(theirs)
    normalised = str(_body(theirs)).replace(str(a.pk), "<tenant>")
    assert (theirs.status_code, normalised) == (
        unknown.status_code,
        str(_body(unknown)).replace(str(bogus_id), "<tenant>"),
    )
    assert Membership.unscoped.filter(tenant=a).count() == members_of_a


# --------------------------------------------------------------------------------------------------
# Outsiders: one guardian grant, nothing more
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def outsider_setup(db, make_member):
    tenant_a = TenantFactory(name="Tenant A")
    manager = make_member(RoleId.MANAGER, tenant_a)
    granted = IncidentFactory(tenant=tenant_a, title="Shared with counsel")
    sibling = IncidentFactory(tenant=tenant_a, title="Not shared")
    outsider = UserFactory(username="counsel")
    with transaction.atomic(), activate(access_for(manager)):
        incident_grant(
            actor=manager, access=access_for(manager), incident=granted, user=outsider, permission="view"
        )
    # One object of every registered kind in tenant A, so "nothing else" is not vacuous.
    planted = {
        key: recipe.one(tenant_a)
        for key, recipe in {e.recipe.key: e.recipe for e in REGISTRY.values()}.items()
    }
    return tenant_a, outsider, granted, sibling, planted


def test_outsider_sees_exactly_the_granted_incident(outsider_setup, api_client_for):
    _, outsider, granted, sibling, _ = outsider_setup
    client = api_client_for(outsider)

    listing = client.get(reverse("incident-list"))
    assert listing.status_code == 200
    assert _ids(listing) == {str(granted.pk)}

    detail = client.get(reverse("incident-detail", kwargs={"pk": granted.pk}))
    assert detail.status_code == 200
    assert detail.json()["title"] == "Shared with counsel"
    assert "description" in detail.json(), "a view grant shows the whole incident"
    assert AuditEntry.unscoped.filter(
        verb="incident.accessed_via_grant", actor_id=outsider.pk, target_id=str(granted.pk)
    ).exists(), "an outsider's read through a grant is put on record"

    other = client.get(reverse("incident-detail", kwargs={"pk": sibling.pk}))
    unknown = client.get(reverse("incident-detail", kwargs={"pk": uuid.uuid4()}))
    assert other.status_code == 404
    assert other.json() == unknown.json()


@pytest.mark.parametrize("route", [r for r in COLLECTIONS if r.name != "incident-list"], ids=lambda r: r.name)
def test_outsider_sees_nothing_in_other_lists(route, outsider_setup, api_client_for):
    _, outsider, _, _, planted = outsider_setup
    entry = REGISTRY[route.name]
    response = api_client_for(outsider).get(
        reverse(route.name, kwargs=entry.kwargs(planted[entry.recipe.key]))
    )
    assert response.status_code in (200, 403, 404), _body(response)
    if response.status_code == 200:
        assert _ids(response) - {str(outsider.pk)} == set(), (
            f"{route.name} shows an outsider rows of tenant A"
        )


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
def test_outsider_reaches_no_other_object(route, outsider_setup, api_client_for):
    _, outsider, granted, _, planted = outsider_setup
    entry = REGISTRY[route.name]
    obj = planted[entry.recipe.key]
    if entry.recipe is INCIDENTS:
        assert obj.pk != granted.pk
    method = "get" if "get" in route.actions else sorted(route.actions)[0]
    body = entry.body(obj, outsider) if method not in SAFE_METHODS else None
    client = api_client_for(outsider)
    kwargs = entry.kwargs(obj)
    response = _call(client, method, reverse(route.name, kwargs=kwargs), body)
    missing = _call(
        client, method, reverse(route.name, kwargs={k: _random_like(v) for k, v in kwargs.items()}), body
    )
    assert response.status_code in (403, 404), _body(response)
    assert (response.status_code, _body(response)) == (missing.status_code, _body(missing))


def test_a_membership_elsewhere_does_not_widen_a_grant(db, make_member, api_client_for):
    """A member of B granted one incident of A sees it, and still nothing else of A."""
    tenant_a, tenant_b = TenantFactory(), TenantFactory()
    granted, sibling = IncidentFactory(tenant=tenant_a), IncidentFactory(tenant=tenant_a)
    own = IncidentFactory(tenant=tenant_b)
    handler_b = make_member(RoleId.HANDLER, tenant_b)
    _grant_row(granted, user=handler_b)
    client = api_client_for(handler_b)
    assert _ids(client.get(reverse("incident-list"))) == {str(granted.pk), str(own.pk)}
    assert client.get(reverse("incident-detail", kwargs={"pk": sibling.pk})).status_code == 404


# --------------------------------------------------------------------------------------------------
# Need-to-know (restricted) incidents inside one tenant
# --------------------------------------------------------------------------------------------------

# What each role of the incident's own tenant sees of a restricted incident, without a grant.
RESTRICTED_VIEW = {
    RoleId.REPORTER: "hidden",
    RoleId.HANDLER: "hidden",
    RoleId.INVESTIGATOR: "hidden",
    RoleId.TENANT_ADMIN: "hidden",
    RoleId.MANAGER: "full",
    RoleId.AUDITOR: "full",
    RoleId.EXECUTIVE: "summary",
}
assert set(RESTRICTED_VIEW) == set(RoleId), "every role needs a need-to-know expectation"


@pytest.mark.parametrize("covering", ["own_tenant", "parent_tenant"])
@pytest.mark.parametrize("role", list(RESTRICTED_VIEW))
def test_restricted_incident_by_role(role, covering, db, make_member, api_client_for):
    parent = TenantFactory()
    tenant = TenantFactory(parent=parent)
    restricted = IncidentFactory(tenant=tenant, restricted=True, description="secret details", severity="P1")
    open_one = IncidentFactory(tenant=tenant)
    client = api_client_for(make_member(role, tenant if covering == "own_tenant" else parent))

    listing = client.get(reverse("incident-list"))
    detail = client.get(reverse("incident-detail", kwargs={"pk": restricted.pk}))
    unknown = client.get(reverse("incident-detail", kwargs={"pk": uuid.uuid4()}))

    expectation = RESTRICTED_VIEW[role]
    if expectation == "hidden":
        assert str(restricted.pk) not in (_ids(listing) if listing.status_code == 200 else set())
        assert detail.status_code == 404, _body(detail)
        assert detail.json() == unknown.json()
        return
    rows = {row["id"]: row for row in listing.json()["results"]}
    assert set(rows) == {str(restricted.pk), str(open_one.pk)}
    assert detail.status_code == 200
    for shown in (rows[str(restricted.pk)], detail.json()):
        if expectation == "full":
            assert shown["description"] == "secret details"
        else:
            assert set(shown) <= SUMMARY_FIELDS, (
                f"executive sees more than the summary: {set(shown) - SUMMARY_FIELDS}"
            )
            assert (shown["title"], shown["severity"]) == (restricted.title, "P1")
    if expectation == "summary":
        assert "description" in rows[str(open_one.pk)], "non-restricted incidents are shown in full"


@pytest.mark.parametrize("permission", ["view", "change"])
def test_restricted_incident_is_visible_to_a_granted_handler(permission, db, make_member, api_client_for):
    tenant = TenantFactory()
    manager = make_member(RoleId.MANAGER, tenant)
    handler = make_member(RoleId.HANDLER, tenant)
    restricted = IncidentFactory(tenant=tenant, restricted=True, description="secret details")
    other_restricted = IncidentFactory(tenant=tenant, restricted=True)
    client = api_client_for(handler)
    assert client.get(reverse("incident-detail", kwargs={"pk": restricted.pk})).status_code == 404

    access = access_for(manager)
    with transaction.atomic(), activate(access):
        incident_grant(actor=manager, access=access, incident=restricted, user=handler, permission=permission)

    detail = client.get(reverse("incident-detail", kwargs={"pk": restricted.pk}))
    assert detail.status_code == 200
    assert detail.json()["description"] == "secret details"
    assert str(restricted.pk) in _ids(client.get(reverse("incident-list")))
    assert str(other_restricted.pk) not in _ids(client.get(reverse("incident-list")))
    assert client.get(reverse("incident-detail", kwargs={"pk": other_restricted.pk})).status_code == 404


def test_service_account_token_is_capped_at_its_tenant(db, make_member, api_client_for):
    """A token bound to one tenant reads that tenant only, even when its user is a member elsewhere."""
    tenant_a, tenant_b = TenantFactory(), TenantFactory()
    user = make_member(RoleId.HANDLER, tenant_b)
    MembershipFactory(user=user, tenant=tenant_a, role=RoleId.HANDLER)
    theirs, ours = IncidentFactory(tenant=tenant_a), IncidentFactory(tenant=tenant_b)
    client = api_client_for(user, tenant=tenant_b, role=RoleId.HANDLER)
    assert _ids(client.get(reverse("incident-list"))) == {str(ours.pk)}
    assert client.get(reverse("incident-detail", kwargs={"pk": theirs.pk})).status_code == 404


def test_narrowing_to_a_parent_tenant_keeps_its_descendants(db, make_member, api_client_for):
    group = TenantFactory()
    child = TenantFactory(parent=group)
    own, deep = IncidentFactory(tenant=group), IncidentFactory(tenant=child)
    IncidentFactory(tenant=TenantFactory())
    client = api_client_for(make_member(RoleId.EXECUTIVE, group))
    response = client.get(reverse("incident-list"), {"tenant": str(group.pk)})
    assert _ids(response) == {str(own.pk), str(deep.pk)}
