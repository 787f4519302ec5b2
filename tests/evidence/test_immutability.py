"""No API, admin or database path alters or deletes evidence content or its custody log."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.evidence.models import CustodyEvent, Evidence
from tests.factories import make_evidence
from tests.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(incident):
    return make_evidence(incident, content=b"original bytes")


def _row(evidence):
    row = Evidence.unscoped.get(pk=evidence.pk)
    return {f.attname: getattr(row, f.attname) for f in Evidence._meta.concrete_fields}


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_api_answers_405_to_changing_or_deleting_evidence(method, item, make_member, tenant, api_client_for):
    from apps.tenancy.roles import RoleId

    client = api_client_for(make_member(RoleId.MANAGER, tenant))
    before = _row(item)
    for url in [
        reverse("evidence-detail", kwargs={"pk": item.pk}),
        reverse("evidence-download", kwargs={"pk": item.pk}),
        reverse("evidence-custody-list", kwargs={"evidence_pk": item.pk}),
    ]:
        response = getattr(client, method)(url, {"sha256": "0" * 64, "description": "changed"}, format="json")
        assert response.status_code == 405, (url, response.content)
    assert _row(item) == before
    assert CustodyEvent.unscoped.filter(evidence=item).count() == 1


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE evidence_evidence SET sha256 = repeat('0', 64) WHERE id = %s",
        "UPDATE evidence_evidence SET size = size + 1 WHERE id = %s",
        "UPDATE evidence_evidence SET storage_key = 'evidence/elsewhere' WHERE id = %s",
        "UPDATE evidence_evidence SET incident_id = NULL WHERE id = %s",
        "UPDATE evidence_evidence SET description = 'rewritten' WHERE id = %s",
        "DELETE FROM evidence_evidence WHERE id = %s",
        "UPDATE evidence_custodyevent SET action = 'returned' WHERE evidence_id = %s",
        "DELETE FROM evidence_custodyevent WHERE evidence_id = %s",
    ],
)
def test_the_database_refuses_changes_to_content_and_custody(sql, item):
    with (
        pytest.raises(DatabaseError, match=r"append-only|immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [item.pk])
    assert Evidence.unscoped.get(pk=item.pk).sha256 == item.sha256


def test_the_database_lets_the_verification_columns_change(item):
    now = timezone.now()
    Evidence.unscoped.filter(pk=item.pk).update(last_verified_at=now, last_verification_ok=False)
    assert Evidence.unscoped.get(pk=item.pk).last_verification_ok is False


def test_the_admin_is_read_only_for_everyone(item, superuser, client):
    sign_in_verified(client, superuser)
    changelist = client.get(reverse("admin:evidence_evidence_changelist"))
    assert changelist.status_code == 200
    assert item.original_name in changelist.content.decode()
    assert client.get(reverse("admin:evidence_evidence_add")).status_code == 403
    change = client.get(reverse("admin:evidence_evidence_change", args=[item.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    posted = client.post(reverse("admin:evidence_evidence_change", args=[item.pk]), {"description": "x"})
    assert posted.status_code == 403
    assert (
        client.post(reverse("admin:evidence_evidence_delete", args=[item.pk]), {"post": "yes"}).status_code
        == 403
    )
    bulk = client.post(
        reverse("admin:evidence_evidence_changelist"),
        {"action": "delete_selected", "_selected_action": [str(item.pk)], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert Evidence.unscoped.filter(pk=item.pk).exists()
    custody = CustodyEvent.unscoped.get(evidence=item)
    assert client.get(reverse("admin:evidence_custodyevent_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:evidence_custodyevent_delete", args=[custody.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_no_code_path_deletes_or_rewrites_stored_bytes():
    """Source check: the evidence app never calls a storage's delete, or opens stored bytes for writing."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "apps" / "evidence"
    source = "\n".join(path.read_text() for path in root.rglob("*.py") if "migrations" not in path.parts)
    assert ".delete(" not in source
    assert '"wb"' not in source
    assert "'wb'" not in source
    assert '"ab"' not in source
