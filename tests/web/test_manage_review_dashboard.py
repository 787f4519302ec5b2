"""Second increment: managing an incident, the review tab, reviews and lessons, dashboards and the ISO
report, the notification centre and preferences, the admin index figures and catalog admin pages."""

import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.notifications.models import CalendarFeed, Notification, NotificationPreference
from apps.response.models import Incident, IncidentTeamMember, IncidentUserObjectPermission
from apps.reviews.models import CorrectiveAction, Review
from apps.tenancy.models import Membership

ALL = ["reporter", "handler", "manager", "auditor", "executive"]
PAGES = [
    ("incident-manage", {"incident_id": "incident"}, ["manager"], ["handler", "auditor", "executive"]),
    ("review", {"incident_id": "incident"}, ["handler", "manager", "auditor", "executive"], []),
    ("reviews", {}, ["handler", "manager", "auditor", "executive"], ["reporter"]),
    ("lessons", {}, ["handler", "manager", "auditor", "executive"], ["reporter"]),
    ("dashboard", {}, ["manager", "auditor", "executive"], ["reporter", "handler"]),
    ("iso27001", {}, ["manager", "auditor", "executive"], ["reporter", "handler"]),
    ("notifications", {}, ALL, []),
    ("preferences", {}, ALL, []),
]


def _url(world, name, kwargs):
    return reverse(f"web:{name}", kwargs={k: world[v].pk for k, v in kwargs.items()})


@pytest.mark.parametrize(("name", "kwargs", "allowed", "refused"), PAGES, ids=[p[0] for p in PAGES])
def test_pages_render_for_their_roles(name, kwargs, allowed, refused, world, client_for):
    url = _url(world, name, kwargs)
    for role in allowed:
        response = client_for(world["users"][role]).get(url)
        assert response.status_code == 200, (role, url, response.status_code)
        assert b'href="#main"' in response.content
    for role in refused:
        response = client_for(world["users"][role]).get(url)
        assert response.status_code == 403, (role, url, response.status_code)


def test_navigation_offers_the_new_pages_by_role(world, client_for):
    manager = client_for(world["users"]["manager"]).get("/").content.decode()
    assert 'href="/dashboard/"' in manager
    assert 'href="/reviews/"' in manager
    assert 'href="/reports/iso27001/"' in manager
    handler = client_for(world["users"]["handler"]).get("/").content.decode()
    assert 'href="/dashboard/"' not in handler
    assert 'href="/reviews/"' in handler
    reporter = client_for(world["users"]["reporter"]).get("/").content.decode()
    assert 'href="/notifications/"' in reporter
    assert 'href="/reviews/"' not in reporter
    workspace = client_for(world["users"]["manager"]).get(
        _url(world, "incident", {"incident_id": "incident"})
    )
    assert b'data-testid="tab-manage"' in workspace.content
    workspace = client_for(world["users"]["handler"]).get(
        _url(world, "incident", {"incident_id": "incident"})
    )
    assert b'data-testid="tab-manage"' not in workspace.content
    assert b'data-testid="tab-review"' in workspace.content


# --- Manage ----------------------------------------------------------------------------------------------


def test_manager_sets_owner_team_restriction_and_clocks(world, client_for):
    users, incident = world["users"], world["incident"]
    client = client_for(users["manager"])
    url = _url(world, "incident-manage", {"incident_id": "incident"})
    page = client.get(url).content.decode()
    assert 'name="owner"' in page
    assert 'name="classified_major_at"' in page
    original_aware = incident.aware_at
    # The pages show and take times in the tenant's zone.
    aware = (original_aware - timedelta(hours=2)).astimezone(zoneinfo.ZoneInfo(world["tenant"].time_zone))
    response = client.post(
        url,
        {
            "owner": str(users["handler"].pk),
            "team": [str(users["handler"].pk), str(users["manager"].pk)],
            "restricted": "on",
            "personal_data_breach": "on",
            "regimes": list(incident.regimes),
            "aware_at": aware.strftime("%Y-%m-%dT%H:%M"),
            "root_cause": "Look-alike domain not blocked",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    incident.refresh_from_db()
    assert incident.owner == users["handler"]
    assert incident.restricted
    assert incident.root_cause == "Look-alike domain not blocked"
    assert abs(incident.aware_at - (original_aware - timedelta(hours=2))) < timedelta(minutes=1)
    team = set(IncidentTeamMember.unscoped.filter(incident=incident).values_list("user_id", flat=True))
    assert team == {users["handler"].pk, users["manager"].pk}


def test_changing_regimes_needs_a_rationale(world, client_for):
    incident = world["incident"]
    client = client_for(world["users"]["manager"])
    url = _url(world, "incident-manage", {"incident_id": "incident"})
    data = {"personal_data_breach": "on", "regimes": [*incident.regimes, "nis2"]}
    response = client.post(url, data)
    assert response.status_code == 400
    assert b"needs a rationale" in response.content
    response = client.post(url, {**data, "rationale": "Essential entity: significant incident."})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert "nis2" in incident.regimes


def test_the_personal_data_breach_flag_adds_gdpr(world, client_for, make_member):
    from django.db import transaction

    from apps.response.services import incident_declare
    from apps.tenancy.access import access_for
    from apps.tenancy.context import activate

    manager = world["users"]["manager"]
    with activate(access_for(manager)), transaction.atomic():
        fresh = incident_declare(
            actor=manager, access=access_for(manager), tenant=world["tenant"], title="Lost laptop"
        )
    client = client_for(manager)
    url = reverse("web:incident-manage", args=[fresh.pk])
    assert client.post(url, {"personal_data_breach": "on"}).status_code == 302
    fresh.refresh_from_db()
    assert fresh.personal_data_breach
    assert "gdpr" in fresh.regimes
    page = client.get(reverse("web:incident", args=[fresh.pk])).content.decode()
    assert "personal-data breach" in page, page


def test_grants_are_given_and_revoked(world, client_for, make_member, other_tenant):
    incident = world["incident"]
    client = client_for(world["users"]["manager"])
    grant = world["grant"]
    response = client.post(reverse("web:grant-revoke", args=[incident.pk, grant.pk]))
    assert response.status_code == 302
    assert not IncidentUserObjectPermission.objects.filter(pk=grant.pk).exists()
    response = client.post(
        reverse("web:grant-create", args=[incident.pk]),
        {"user": str(world["users"]["auditor"].pk), "permission": "change"},
    )
    assert response.status_code == 302
    assert IncidentUserObjectPermission.objects.filter(
        content_object=incident, user=world["users"]["auditor"]
    ).exists()
    # A handler may not open the page, nor post to it.
    handler = client_for(world["users"]["handler"])
    assert handler.post(reverse("web:grant-create", args=[incident.pk]), {}).status_code == 403


def test_a_closed_incident_is_frozen(world, client_for):
    Incident.unscoped.filter(pk=world["incident"].pk).update(status="closed", closed_at=timezone.now())
    client = client_for(world["users"]["manager"])
    url = _url(world, "incident-manage", {"incident_id": "incident"})
    assert b"fields are frozen" in client.get(url).content
    response = client.post(url, {"root_cause": "x", "personal_data_breach": "on"}, follow=True)
    assert b"frozen" in response.content


# --- Review ------------------------------------------------------------------------------------------------


def test_review_is_written_completed_and_searchable(world, client_for):
    client = client_for(world["users"]["manager"])
    url = _url(world, "review", {"incident_id": "incident"})
    review = world["review"]
    response = client.post(url, {"root_cause": "Weak filter rules", "contributing_factors": "No MFA"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.contributing_factors == "No MFA"
    # Completing without lessons is refused with the reason.
    response = client.post(reverse("web:review-complete", args=[world["incident"].pk]), follow=True)
    assert b"lessons_learned" in response.content
    client.post(url, {"root_cause": "Weak filter rules", "lessons_learned": "Enforce MFA on webmail"})
    response = client.post(reverse("web:review-complete", args=[world["incident"].pk]))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == "completed"
    page = client.get(url).content.decode()
    assert 'data-testid="review-status"' in page
    assert "Start the review" not in page
    found = client.get(reverse("web:lessons"), {"q": "MFA"}).content.decode()
    assert world["incident"].reference in found
    assert "<mark>MFA</mark>" in found
    assert (
        world["incident"].reference
        not in client.get(reverse("web:lessons"), {"q": "zeppelin"}).content.decode()
    )


def test_a_review_is_started_from_the_tab(world, client_for):
    Review.unscoped.filter(pk=world["review"].pk).update()  # the world has one; use a fresh incident
    from django.db import transaction

    from apps.response.services import incident_declare
    from apps.tenancy.access import access_for
    from apps.tenancy.context import activate

    manager = world["users"]["manager"]
    with activate(access_for(manager)), transaction.atomic():
        fresh = incident_declare(
            actor=manager, access=access_for(manager), tenant=world["tenant"], title="DDoS"
        )
    client = client_for(manager)
    url = reverse("web:review", args=[fresh.pk])
    assert b"Start the review" in client.get(url).content
    assert client.post(url, {"timeline_summary": "Traffic spike"}).status_code == 302
    assert Review.unscoped.get(incident=fresh).timeline_summary == "Traffic spike"


def test_corrective_actions_are_added_and_moved(world, client_for):
    client = client_for(world["users"]["manager"])
    incident = world["incident"]
    response = client.post(
        reverse("web:corrective-action-create", args=[incident.pk]),
        {"title": "Enforce MFA", "kind": "preventive", "owner": str(world["users"]["handler"].pk)},
    )
    assert response.status_code == 302
    action = CorrectiveAction.unscoped.get(title="Enforce MFA")
    prefix = f"a{action.pk.hex[:8]}"
    url = reverse("web:corrective-action-update", args=[incident.pk, action.pk])
    assert client.post(url, {f"{prefix}-status": "in_progress"}).status_code == 302
    assert client.post(url, {f"{prefix}-status": "done"}).status_code == 302
    response = client.post(url, {f"{prefix}-status": "verified"})
    assert response.status_code == 400
    assert b"effectiveness was checked" in response.content
    response = client.post(url, {f"{prefix}-status": "verified", f"{prefix}-verification_note": "Audit log"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "verified"


def test_the_owner_handler_moves_their_action_but_may_not_verify(world, client_for):
    action = world["corrective_action"]
    client = client_for(world["users"]["handler"])
    url = reverse("web:corrective-action-update", args=[world["incident"].pk, action.pk])
    prefix = f"a{action.pk.hex[:8]}"
    assert client.post(url, {f"{prefix}-status": "in_progress"}).status_code == 302
    action.refresh_from_db()
    assert action.status == "in_progress"
    assert client.post(url, {f"{prefix}-status": "cancelled"}).status_code == 403


def test_the_reviews_list_puts_overdue_actions_first(world, client_for):
    action = world["corrective_action"]
    CorrectiveAction.unscoped.filter(pk=action.pk).update(due_at=timezone.now() - timedelta(days=2))
    page = client_for(world["users"]["manager"]).get(reverse("web:reviews")).content.decode()
    assert 'class="is-overdue"' in page
    assert "overdue by" in page
    assert "Tighten the mail filter" in page
    overdue_only = client_for(world["users"]["manager"]).get(reverse("web:reviews"), {"show": "overdue"})
    assert b"Tighten the mail filter" in overdue_only.content


# --- Dashboards and the ISO report -------------------------------------------------------------------------


def test_dashboard_shows_open_incidents_deadlines_and_trends(world, client_for):
    page = client_for(world["users"]["manager"]).get(reverse("web:dashboard")).content.decode()
    assert 'data-testid="open-by-severity"' in page
    assert world["tenant"].name in page
    assert world["incident"].reference in page  # its GDPR deadline is due within 72 hours
    assert "<svg" in page
    assert "chart__bar--" in page
    assert "median time to contain" in page


def test_executive_dashboard_spans_their_tenants(world, client_for, other_tenant, make_member):
    executive = world["users"]["executive"]
    Membership.unscoped.create(user=executive, tenant=other_tenant, role="executive")
    page = client_for(executive).get(reverse("web:dashboard")).content.decode()
    assert "Across 2 departments" in page
    assert world["tenant"].name in page
    assert other_tenant.name in page
    assert world["incident"].reference in page


def test_iso_report_page_with_period_picker(world, client_for):
    client = client_for(world["users"]["auditor"])
    page = client.get(reverse("web:iso27001")).content.decode()
    assert "A.5.24" in page
    assert "A.6.8" in page
    assert 'name="date_from"' in page
    assert "data-print" in page
    response = client.get(reverse("web:iso27001"), {"date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert response.status_code == 200
    assert b"Must not be after" in response.content


# --- Notifications ------------------------------------------------------------------------------------


def test_notification_centre_marks_read(world, client_for):
    manager = world["users"]["manager"]
    notification = world["notification"]
    client = client_for(manager)
    page = client.get(reverse("web:notifications")).content.decode()
    assert notification.subject in page
    assert "is-unread" in page
    assert 'class="bell__count"' in page
    response = client.post(reverse("web:notification-read", args=[notification.pk]), {"open": "1"})
    assert response["Location"] == reverse("web:incident", args=[world["incident"].pk])
    notification.refresh_from_db()
    assert notification.read_at is not None
    Notification.unscoped.create(
        tenant=world["tenant"], user=manager, kind="incident.transitioned", subject="x"
    )
    client.post(reverse("web:notifications-read-all"))
    assert not Notification.unscoped.filter(user=manager, read_at__isnull=True).exists()
    # Someone else's notification is 404 to me.
    other = client_for(world["users"]["handler"])
    assert other.post(reverse("web:notification-read", args=[notification.pk])).status_code == 404


def test_preferences_and_calendar_link(world, client_for):
    user = world["users"]["handler"]
    client = client_for(user)
    page = client.get(reverse("web:preferences")).content.decode()
    assert "obligation.overdue:in_app" in page
    assert "disabled" in page
    assert "/calendar/" in page
    # Everything on except e-mail for status changes.
    from apps.notifications.preferences import KNOWN_KINDS

    data = {f"{kind}:{channel}": "on" for kind in KNOWN_KINDS for channel in ("in_app", "email")}
    del data["incident.transitioned:email"]
    assert client.post(reverse("web:preferences"), data).status_code == 302
    pref = NotificationPreference.objects.get(user=user, kind="incident.transitioned")
    assert pref.in_app
    assert not pref.email
    before = CalendarFeed.objects.get(user=user).nonce
    assert client.post(reverse("web:calendar-rotate")).status_code == 302
    assert CalendarFeed.objects.get(user=user).nonce != before


# --- Admin ------------------------------------------------------------------------------------------------


def test_admin_index_shows_the_key_figures(world, client_for):
    page = client_for(world["users"]["executive"]).get("/admin/").content.decode()
    assert 'data-testid="admin-figures"' in page
    assert "open incidents" in page
    assert "median time to contain" in page


@pytest.mark.parametrize("model", ["catalog/regime", "notifications/authority", "notifications/course"])
def test_catalog_admin_pages_are_read_only_for_executives(world, client_for, model):
    client = client_for(world["users"]["executive"])
    response = client.get(f"/admin/{model}/")
    assert response.status_code == 200
    assert client.get(f"/admin/{model}/add/").status_code == 403


def test_regime_admin_lists_the_shipped_regimes(world, client_for):
    page = client_for(world["users"]["manager"]).get("/admin/catalog/regime/").content.decode()
    assert "gdpr" in page
