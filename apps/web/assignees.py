"""Who a response action may be assigned to on the incident page: the people the caller may see who see
the incident in full (need-to-know holds: for a restricted incident each candidate is asked with their own
access, under the one visibility rule of apps.response.selectors)."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.response.models import Incident
from apps.response.selectors import Need, incident_grant_list, incident_visible
from apps.tenancy.access import Access, access_for
from apps.tenancy.context import activate
from apps.tenancy.models import Membership
from apps.tenancy.roles import ROLES, Scope
from apps.tenancy.selectors import user_list

READER_ROLES = [role_id for role_id, role in ROLES.items() if Scope.INCIDENT_READ in role.scopes]


def _sees_in_full(person, incident: Incident) -> bool:
    access = access_for(person)
    with activate(access):
        return incident_visible(access=access, need=Need.FULL).filter(pk=incident.pk).exists()


def incident_assignees(*, access: Access, incident: Incident) -> QuerySet:
    """Active members whose role reads incidents in the incident's department (or one covering it), and
    the people it was granted to, among those the caller may see."""
    covering = [part for part in incident.tenant.path.split("/") if part] or [incident.tenant_id]
    reader = Membership.unscoped.filter(user_id=OuterRef("pk"), tenant_id__in=covering, role__in=READER_ROLES)
    granted = incident_grant_list(incident=incident).values("user_id")
    people = user_list(access=access).filter(Exists(reader) | Q(pk__in=granted), is_active=True)
    if incident.restricted:
        people = people.filter(pk__in=[p.pk for p in people if _sees_in_full(p, incident)])
    return people.order_by("first_name", "username")
