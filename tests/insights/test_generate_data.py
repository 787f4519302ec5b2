"""The benchmark's data generator (issue 7) on a small scale: it loads through COPY, every row passes the
database's constraints and triggers, the dropped secondary indexes come back, and it refuses a database
that already holds data. The benchmark itself is not part of the test suite (make bench)."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connections


def _scalar(sql: str, params=()):
    """Read as the generator wrote: as the owner (the app's role sees no tenant's rows outside a context)."""
    with connections["owner"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _foreign_keys() -> list[str]:
    """Every foreign key, as defined (the generator drops the big tables' keys for the load)."""
    return _scalar(
        "SELECT array_agg(conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) "
        "ORDER BY conrelid::regclass::text, conname) FROM pg_constraint WHERE contype = 'f'"
    )


def _index_count() -> int:
    return _scalar(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN "
        "('response_incident', 'response_timelineentry', 'evidence_evidence', 'notifications_obligation')"
    )


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_generate_data_small(capsys):
    indexes, foreign_keys = _index_count(), _foreign_keys()

    call_command("generate_data", incidents=50, seed=3)

    out = capsys.readouterr().out
    assert "response_incident" in out  # per-table timings
    assert "(total)" in out
    assert _scalar("SELECT count(*) FROM tenancy_tenant") == 200
    assert _scalar("SELECT count(*) FROM tenancy_tenant WHERE parent_id IS NULL") == 1
    assert _scalar("SELECT count(*) FROM accounts_user") == 20_003
    assert _scalar("SELECT count(DISTINCT password) FROM accounts_user") == 1
    assert _scalar("SELECT count(*) FROM response_incident") == 50
    # Every tenant's path is its parent's path plus its id.
    assert not _scalar(
        "SELECT count(*) FROM tenancy_tenant c JOIN tenancy_tenant p ON p.id = c.parent_id"
        " WHERE c.path <> p.path || c.id || '/'"
    )
    # Each incident came from a report whose decision opened it, and has a timeline.
    assert not _scalar(
        "SELECT count(*) FROM response_incident i WHERE NOT EXISTS (SELECT 1 FROM reporting_report r"
        " JOIN assessment_assessment a ON a.report_id = r.id AND a.decision = 'incident'"
        " WHERE r.incident_id = i.id AND a.incident_id = i.id)"
    )
    assert _scalar("SELECT count(DISTINCT incident_id) FROM response_timelineentry") == 50
    assert _scalar("SELECT count(*) FROM response_responseaction") >= 50
    # The trigger filled the full-text column.
    assert not _scalar("SELECT count(*) FROM response_incident WHERE search_vector IS NULL")
    # Grants carry a permission of incidents and their incident's tenant.
    assert _scalar("SELECT count(*) FROM response_incidentuserobjectpermission") >= 10
    assert not _scalar(
        "SELECT count(*) FROM response_incidentuserobjectpermission g JOIN response_incident i"
        " ON i.id = g.content_object_id JOIN auth_permission p ON p.id = g.permission_id"
        " WHERE g.tenant_id <> i.tenant_id OR p.codename NOT IN ('view_incident', 'change_incident')"
    )
    # Children stay in their incident's tenant.
    children = ("response_timelineentry", "evidence_evidence", "notifications_obligation", "reviews_review")
    for table in children:
        assert not _scalar(
            f"SELECT count(*) FROM {table} c JOIN response_incident i ON i.id = c.incident_id"  # noqa: S608
            " WHERE c.tenant_id <> i.tenant_id"
        ), table
    # Reference counters continue after the generated references (a new incident or report gets a free one).
    assert not _scalar(
        "SELECT count(*) FROM response_incident i JOIN tenancy_tenant t ON t.id = i.tenant_id"
        " LEFT JOIN tenancy_referencecounter c ON c.tenant_id = i.tenant_id AND c.kind = 'incident'"
        " AND c.year = split_part(i.reference, '-', 2)::int"
        " WHERE c.last IS NULL OR c.last < split_part(i.reference, '-', 3)::int"
    )
    assert _index_count() == indexes  # the secondary indexes are back
    assert _foreign_keys() == foreign_keys  # and every foreign key, validated

    with pytest.raises(CommandError, match="already holds generated data"):
        call_command("generate_data", incidents=10, seed=3)


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_generate_data_refuses_a_database_with_other_data(tenant):
    with pytest.raises(CommandError, match="not generated"):
        call_command("generate_data", incidents=10, seed=3)
