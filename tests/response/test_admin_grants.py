from django.contrib.auth.models import Permission
from django.test import Client

from apps.audit.models import AuditEntry
from apps.response.models import IncidentUserObjectPermission
from tests.factories import IncidentFactory, UserFactory
from tests.two_factor import sign_in_verified


def _grant_form(incident, user, permission) -> dict:
    prefix = "user_grants"
    return {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-user": str(user.pk),
        f"{prefix}-0-permission": str(permission.pk),
        f"{prefix}-0-content_object": str(incident.pk),
        "_save": "Save",
    }


def test_a_manager_grants_need_to_know_in_the_admin_and_it_is_audited(manager, tenant):
    from apps.tenancy.models import Outsider

    incident = IncidentFactory(tenant=tenant, restricted=True)
    counsel = UserFactory()
    Outsider.unscoped.create(tenant=tenant, user=counsel)
    view = Permission.objects.get(content_type__app_label="response", codename="view_incident")
    client = Client()
    sign_in_verified(client, manager)

    response = client.post(
        f"/admin/response/incident/{incident.pk}/change/", _grant_form(incident, counsel, view)
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    grant = IncidentUserObjectPermission.objects.get(content_object=incident, user=counsel)
    assert grant.tenant_id == tenant.id
    entry = AuditEntry.unscoped.get(verb="incident.granted")
    assert (entry.actor_id, entry.channel, entry.data["user_id"]) == (manager.pk, "admin", str(counsel.pk))


def test_the_admin_grant_form_cannot_name_a_person_of_another_tenant(
    manager, tenant, make_member, other_tenant
):
    incident = IncidentFactory(tenant=tenant, restricted=True)
    stranger = make_member("handler", other_tenant)
    view = Permission.objects.get(content_type__app_label="response", codename="view_incident")
    client = Client()
    sign_in_verified(client, manager)

    response = client.post(
        f"/admin/response/incident/{incident.pk}/change/", _grant_form(incident, stranger, view)
    )

    assert response.status_code == 200  # the form comes back with an error
    assert not IncidentUserObjectPermission.objects.filter(user=stranger).exists()
