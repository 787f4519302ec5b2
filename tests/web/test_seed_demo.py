from django.core.management import call_command

from apps.audit.selectors import audit_chain_verify, audit_chains
from apps.response.models import Incident
from apps.tenancy.models import Membership, Tenant
from apps.tenancy.roles import RoleId


def test_demo_data_is_created_once_through_the_audited_services(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert out.count("Demo data created.") == 1
    assert "Demo logins" in out

    assert set(Tenant.objects.values_list("slug", flat=True)) == {"acme", "finance", "engineering"}
    assert set(Membership.unscoped.values_list("role", flat=True)) == set(RoleId.values)
    assert Incident.unscoped.filter(tenant__slug="finance").count() == 3
    assert Incident.unscoped.filter(restricted=True).count() == 1
    # On the test's own connection (the system connection would not see this uncommitted test's rows).
    chains = audit_chains(using="default")
    assert chains
    assert all(audit_chain_verify(chain=chain, using="default") is None for chain in chains)
