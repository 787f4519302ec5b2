from django.test import Client

from apps.audit.models import AuditEntry
from apps.notifications.models import Authority, Course
from tests.two_factor import sign_in_verified


def _client(user):
    return sign_in_verified(Client(), user)


def test_a_tenant_admin_manages_authorities_in_the_admin(make_member, tenant):
    client = _client(make_member("tenant_admin", tenant))
    response = client.post(
        "/admin/notifications/authority/add/",
        {
            "tenant": str(tenant.pk),
            "kind": "supervisory_authority",
            "name": "CNIL",
            "jurisdiction": "FR",
            "country": "FR",
            "regimes": "gdpr",
            "email": "notifications@cnil.example",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    authority = Authority.unscoped.get(name="CNIL")
    assert (authority.tenant_id, authority.regimes) == (tenant.id, ["gdpr"])
    changed = client.post(
        f"/admin/notifications/authority/{authority.pk}/change/",
        {
            "kind": "supervisory_authority",
            "name": "CNIL (France)",
            "jurisdiction": "FR",
            "country": "FR",
            "regimes": "gdpr",
            "email": "notifications@cnil.example",
            "_save": "Save",
        },
    )
    assert changed.status_code == 302
    assert set(AuditEntry.unscoped.filter(target_id=str(authority.pk)).values_list("verb", "channel")) == {
        ("authority.created", "admin"),
        ("authority.updated", "admin"),
    }


def test_a_tenant_admin_adds_a_mandatory_course_and_executives_only_read(make_member, tenant):
    admin = _client(make_member("tenant_admin", tenant))
    response = admin.post(
        "/admin/notifications/course/add/",
        {
            "tenant": str(tenant.pk),
            "name": "Reporting security events",
            "description": "",
            "mandatory": "on",
            "recurrence_months": "12",
            "due_within_days": "30",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    course = Course.unscoped.get(name="Reporting security events")
    executive = _client(make_member("executive", tenant))
    assert executive.get("/admin/notifications/course/add/").status_code == 403
    refused = executive.post(
        f"/admin/notifications/course/{course.pk}/change/", {"name": "Renamed", "_save": "Save"}
    )
    assert refused.status_code == 403
