"""Several read-only querysets answered in one SQL statement (one round trip, one query on the count).

The insights reports need two dozen small aggregates over different tables. Sent one by one they cost a
round trip and Django's per-query overhead each (the ISO report used 59 queries, issue 7); here each
queryset's own SQL becomes a sub-select whose rows come back as a JSON array:

    SELECT json_build_array(
        (SELECT coalesce(json_agg(json_build_array(q.c0, q.c1)), '[]') FROM (<queryset 1>) AS q(c0, c1)),
        ...)

The querysets are compiled by Django (tenant managers, lookups and parameters as usual); only `values()`
querysets are accepted, so the column names are known. Values come back as JSON types: numbers, strings
(UUIDs, dates and timestamps as ISO text), booleans and null.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import QuerySet


def _names(queryset: QuerySet) -> list[str]:
    query = queryset.query
    if queryset._fields is None and not query.values_select and not query.annotation_select:
        raise ValueError("fetch_together() takes values() querysets")
    # The order of ValuesIterable: extra, then fields, then annotations.
    return [*query.extra_select, *query.values_select, *query.annotation_select]


def fetch_together(querysets: dict[str, QuerySet]) -> dict[str, list[dict]]:
    """{name: queryset.values(...)} -> {name: [row dict, ...]} in one statement."""
    parts, params, names = [], [], {}
    for name, queryset in querysets.items():
        columns = _names(queryset)
        names[name] = columns
        sql, query_params = queryset.query.sql_with_params()
        aliases = [f"c{i}" for i in range(len(columns))]
        row = ", ".join(f"q.{alias}" for alias in aliases)
        # Django-compiled SQL with its parameters bound, and generated aliases: nothing from the caller.
        parts.append(
            f"(SELECT coalesce(json_agg(json_build_array({row})), '[]'::json)"  # noqa: S608
            f" FROM ({sql}) AS q({', '.join(aliases)}))"
        )
        params.extend(query_params)
    if not parts:
        return {}
    # json_build_array takes at most 100 arguments: nest the parts in groups.
    groups = [parts[i : i + 90] for i in range(0, len(parts), 90)]
    select = ", ".join(f"json_build_array({', '.join(group)})" for group in groups)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select}", params)
        row = cursor.fetchone()
    # Django's psycopg 3 adapter hands json over as text.
    values = [value for group in row for value in (json.loads(group) if isinstance(group, str) else group)]
    return {
        name: [dict(zip(names[name], item, strict=True)) for item in rows]
        for name, rows in zip(querysets, values, strict=True)
    }
