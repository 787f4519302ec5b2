import pytest

from apps.response.models import Incident
from apps.tenancy.access import access_for
from apps.tenancy.context import TenantContextMissing, activate
from apps.tenancy.models import Membership
from tests.factories import IncidentFactory, TenantFactory


def test_tenant_owned_rows_cannot_be_queried_without_a_context(tenant):
    IncidentFactory(tenant=tenant)
    with pytest.raises(TenantContextMissing):
        list(Incident.objects.all())
    with pytest.raises(TenantContextMissing):
        Membership.objects.count()


def test_context_limits_rows_to_the_callers_tenants(tenant, other_tenant, make_member):
    mine = IncidentFactory(tenant=tenant)
    IncidentFactory(tenant=other_tenant)
    user = make_member("handler", tenant)
    with activate(access_for(user)):
        assert list(Incident.objects.values_list("id", flat=True)) == [mine.id]


def test_narrowing_cannot_widen_beyond_the_access(tenant, other_tenant, make_member):
    IncidentFactory(tenant=other_tenant)
    user = make_member("handler", tenant)
    with activate(access_for(user), tenant_ids=[other_tenant.id]):
        assert Incident.objects.count() == 0


def test_membership_in_a_parent_covers_descendants(db, make_member):
    group = TenantFactory()
    division = TenantFactory(parent=group)
    department = TenantFactory(parent=division)
    sibling_root = TenantFactory()
    deep = IncidentFactory(tenant=department)
    IncidentFactory(tenant=sibling_root)
    executive = make_member("executive", group)
    with activate(access_for(executive)) as context:
        assert context.tenant_ids == {group.id, division.id, department.id}
        assert list(Incident.objects.values_list("id", flat=True)) == [deep.id]
