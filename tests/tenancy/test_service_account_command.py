import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from apps.tenancy.models import ApiToken
from tests.factories import IncidentFactory


def test_the_command_prints_a_token_bound_to_one_tenant_and_role(superuser, tenant, other_tenant, capsys):
    call_command(
        "create_service_account", tenant=tenant.slug, role="handler", name="siem", by=superuser.username
    )
    key = capsys.readouterr().out.split("Token (shown once, store it in the external system): ")[1].strip()
    token = ApiToken.objects.get(key_prefix=key[:10])
    assert (token.tenant_id, token.role, token.user.is_service_account) == (tenant.id, "handler", True)
    assert key != token.key_prefix
    assert ApiToken.objects.get(ApiToken.with_key(key)) == token  # only the hash is stored, found by it

    mine = IncidentFactory(tenant=tenant)
    IncidentFactory(tenant=other_tenant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    ids = [row["id"] for row in client.get("/api/v1/incidents/").json()["results"]]
    assert ids == [str(mine.id)]


def test_a_tenant_admin_creates_them_for_its_own_tenant_only(make_member, tenant, other_tenant, capsys):
    admin = make_member("tenant_admin", tenant)
    call_command(
        "create_service_account", tenant=tenant.slug, role="handler", name="ticketing", by=admin.username
    )
    assert "Token (shown once" in capsys.readouterr().out
    with pytest.raises(CommandError, match="do not manage the members"):
        call_command(
            "create_service_account", tenant=other_tenant.slug, role="handler", name="x", by=admin.username
        )
    with pytest.raises(CommandError, match="executives"):
        call_command(
            "create_service_account", tenant=tenant.slug, role="executive", name="y", by=admin.username
        )
