"""Extreme integers in every integer parameter of every operation (issue 14: `?offset=9223372036854775808`
answered 500).

Read from the OpenAPI schema, so that a new endpoint or parameter is covered without touching this file: each
integer query or path parameter, and each integer property of a request body, gets each of the extreme values
(±2^63, 2^64, PostgreSQL's integer and bigint edges, -1, 400 and 5,000 digits) as the only change to a request
that otherwise reaches a real object of the seeded tenant (path parameters of seeded objects; bodies generated
valid by schemathesis). No answer may be a 5xx (that 400 names the parameter: the tests at the end). Part
of the bounded `make test` pass and of `make fuzz` alike: the values are fixed, not drawn.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from apps.core.api.integers import query_integer
from apps.tenancy.roles import RoleId
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.fuzz.test_api_fuzz import PLACEHOLDER, _real_path_parameters, _seed, _token

# The values as numbers (JSON bodies) and as they appear in a URL.
EXTREME_NUMBERS = [2**63, -(2**63), -(2**63) - 1, 2**64, 2**63 - 1, 2**31, -1, 10**400]
EXTREME_STRINGS = [str(n) for n in EXTREME_NUMBERS] + ["9" * 5000, "-" + "9" * 400]
ROLES = [RoleId.MANAGER, RoleId.TENANT_ADMIN, RoleId.AUDITOR]
# The answers' conformance to the schema is test_api_fuzz's; this sweep is about the server never failing.
CHECKS = [not_a_server_error]


def _deref(raw: dict, node: dict) -> dict:
    """`node` with its `$ref` (if any) followed in the raw schema."""
    while isinstance(node, dict) and "$ref" in node:
        target = raw
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _is_integer(node: dict) -> bool:
    return node.get("type") == "integer" or "integer" in (node.get("type") or [])


def integer_parameters(raw: dict, operation) -> list[tuple[str, str]]:
    """(location, name) of every integer query/path parameter and integer request-body property."""
    found = []
    definition = operation.definition.raw
    for parameter in definition.get("parameters", []):
        parameter = _deref(raw, parameter)
        if parameter.get("in") in ("query", "path") and _is_integer(_deref(raw, parameter.get("schema", {}))):
            found.append((parameter["in"], parameter["name"]))
    for media in definition.get("requestBody", {}).get("content", {}).values():
        body = _deref(raw, media.get("schema", {}))
        for name, prop in body.get("properties", {}).items():
            prop = _deref(raw, prop)
            if _is_integer(prop) and not prop.get("readOnly"):
                found.append(("body", name))
        break  # one media type per operation (SPECTACULAR_SETTINGS)
    return sorted(set(found))


@pytest.mark.usefixtures("_in_process_wsgi")
@pytest.mark.parametrize("role", ROLES)
def test_every_integer_parameter_takes_extreme_values_without_a_server_error(role, db, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"user": "1000000/min", "token": "1000000/min", "login": "1000000/min"},
    )
    tenant = TenantFactory(name="Extremes", reference_prefix="EXT")
    reach = _seed(tenant)
    user = UserFactory(username=f"extreme-{role}")
    MembershipFactory(user=user, tenant=tenant, role=role)
    headers = {"Authorization": f"Token {_token(user)}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    raw = schema.raw_schema

    failures: list[str] = []
    covered: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        targets = integer_parameters(raw, operation)
        if not targets:
            continue
        real = _real_path_parameters(operation.path, reach) or {}
        names = re.findall(r"{(\w+)}", operation.path)
        path_parameters = {name: real.get(name, PLACEHOLDER) for name in names}
        for location, name in targets:
            covered.append(f"{operation.label} {location}:{name}")
            try:
                if location == "body":
                    _extreme_bodies(operation, path_parameters, name, headers)
                else:
                    for value in EXTREME_STRINGS:
                        params = dict(path_parameters)
                        query = {}
                        (params if location == "path" else query)[name] = value
                        case = operation.Case(path_parameters=params, query=query)
                        case.call_and_validate(headers=headers, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # collect every failure, assert below
                failures.append(f"{operation.label} {location}:{name}: {exc}")

    assert not failures, "\n\n".join(failures)
    # The parameters the issue names are among those covered (the sweep reads the schema right).
    assert "GET /api/v1/lessons/ query:offset" in covered
    assert "GET /api/v1/incidents/ query:page_size" in covered
    assert any(item.endswith("body:affected_records") for item in covered)


def _extreme_bodies(operation, path_parameters, name, headers) -> None:
    """A body generated valid for the operation, with `name` replaced by each extreme number in turn."""

    @settings(
        max_examples=1,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=path_parameters)
    )
    def run(case):
        for value in EXTREME_NUMBERS:
            body = dict(case.body) if isinstance(case.body, dict) else {}
            body[name] = value if case.media_type == "application/json" else str(value)
            extreme = operation.Case(
                path_parameters=dict(case.path_parameters or {}),
                query=dict(case.query or {}),
                body=body,
                media_type=case.media_type,
            )
            extreme.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        (None, 7),
        ("", 7),
        ("0", 0),
        ("2147483647", 2**31 - 1),
        ("2147483648", "less than or equal to 2147483647"),
        ("9223372036854775808", "less than or equal to 2147483647"),
        ("9" * 5000, "less than or equal to 2147483647"),
        ("-1", "greater than or equal to 0"),
        ("-" + "9" * 5000, "greater than or equal to 0"),
        ("1e3", "A valid integer is required."),
        ("+-5", "A valid integer is required."),  # two signs: int() itself would raise (a 500)
        ("--1", "A valid integer is required."),
        ("٣", "A valid integer is required."),  # a digit, but not an ASCII one
    ],
)
def test_query_integer_bounds(raw, answer):
    from rest_framework.exceptions import ValidationError

    if isinstance(answer, int):
        assert query_integer(raw, name="offset", default=7, minimum=0, maximum=2**31 - 1) == answer
        return
    with pytest.raises(ValidationError) as refused:
        query_integer(raw, name="offset", default=7, minimum=0, maximum=2**31 - 1)
    assert answer in str(refused.value.detail["offset"][0])


@pytest.mark.parametrize("value", ["9223372036854775808", "18446744073709551616", "-1", "9" * 400, "%2B-5"])
def test_the_lessons_offset_of_the_issue_is_400_naming_it(value, make_member, tenant, api_client_for):
    client = api_client_for(make_member("handler", tenant))

    response = client.get(f"/api/v1/lessons/?offset={value}")

    assert response.status_code == 400
    assert list(response.json()) == ["offset"]


@pytest.mark.parametrize("position", ["not-a-number", "1.5", "9" * 5000])
def test_a_crafted_cursor_position_is_an_invalid_cursor(position, make_member, tenant, api_client_for):
    """The audit list pages by `-id`: a cursor whose position is no integer was a 500, now 404 "Invalid
    cursor" like any cursor that does not decode."""
    client = api_client_for(make_member("auditor", tenant))
    cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()

    response = client.get("/api/v1/audit/", {"cursor": cursor})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}
