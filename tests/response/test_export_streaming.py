"""The CSV export of 100,000 incidents streams: every row arrives, and the process never holds them all.

The rows are read while the body streams, after the request's tenant context has closed (the export
enters it again for each chunk: apps.tenancy.context.iterate_within); the test client reads the body as a
server would, as in production (tests/production_paths.py)."""

import tracemalloc

import pytest
from django.db import connections

from apps.response.models import Incident
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])

ROWS = 100_000
# Loading 100,000 incidents as model instances takes several hundred MB; a chunk of the stream is a few MB.
PEAK_BYTES = 40 * 1024 * 1024


def _copies_in_sql(template: Incident, count: int) -> None:
    """`count` copies of a saved incident, inserted by one statement as the owner (fast, no Python rows)."""
    columns, values = [], []
    for f in template._meta.concrete_fields:
        columns.append(f'"{f.column}"')
        if f.primary_key:
            values.append("gen_random_uuid()")
        elif f.name == "reference":
            values.append("reference || '-' || n")
        elif f.name in ("declared_at", "created_at"):
            values.append(f"\"{f.column}\" - n * interval '1 second'")
        else:
            values.append(f'"{f.column}"')
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO response_incident ({', '.join(columns)}) "  # noqa: S608 - model metadata only
            f"SELECT {', '.join(values)} FROM response_incident, generate_series(1, %s) AS n WHERE id = %s",
            [count, template.pk],
        )


def test_the_export_of_100k_incidents_streams_every_row_in_bounded_memory(make_member, tenant, other_tenant):
    handler = make_member("handler", tenant)
    _copies_in_sql(IncidentFactory(tenant=tenant, title="Phishing wave"), ROWS - 1)
    IncidentFactory(tenant=other_tenant, title="Not yours")
    from django.test import Client

    client = Client()
    client.force_login(handler)

    tracemalloc.start()
    try:
        response = client.get("/api/v1/incidents/export/")
        assert response.status_code == 200
        assert response.streaming
        lines = foreign = mine = 0
        for chunk in response.streaming_content:
            text = chunk.decode()
            lines += text.count("\n")
            foreign += text.count("Not yours")
            mine += text.count("Phishing wave")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert lines == ROWS + 1  # the header and every row
    assert (mine, foreign) == (ROWS, 0)
    assert peak < PEAK_BYTES, f"the export held {peak / 2**20:.0f} MiB at its peak"
