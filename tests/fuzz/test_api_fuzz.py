"""Schema-driven fuzzing of the whole API (issue 8, "Fuzzed API").

schemathesis reads `/api/schema/` and, for every operation, generates requests (valid ones and, as often,
deliberately invalid ones), sends them in-process through Django's WSGI application as real, token-
authenticated users of several roles, and checks every answer:

- `not_a_server_error`: no 5xx, ever;
- `response_schema_conformance`: the body matches the response the schema documents for that status.

Data: one tenant seeded with an object of every kind the API serves (the isolation matrix's recipes), and
half of the generated cases aim at those real objects (their ids in the path) so handlers run past the
404 of a random id. Roles: handler, manager, tenant_admin and auditor of the tenant, and an outsider
(no membership; a `view` grant on one incident).

The run is bounded and deterministic (`derandomize=True`): FUZZ_MAX_EXAMPLES (default 2) examples per
operation and role inside `make test`; `make fuzz` raises it (and FUZZ_MIN_CASES makes the run prove it
reached its count). Excluded: nothing; multipart evidence uploads are generated like any other body.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from django.urls import resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from apps.tenancy.roles import RoleId
from apps.tenancy.services import token_create
from tests.factories import MembershipFactory, TenantFactory, UserFactory

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "2"))
MIN_CASES = int(os.environ.get("FUZZ_MIN_CASES", "0"))
ROLES = [RoleId.HANDLER, RoleId.MANAGER, RoleId.TENANT_ADMIN, RoleId.AUDITOR, "outsider"]
CHECKS = [not_a_server_error, response_schema_conformance]
PLACEHOLDER = "00000000-0000-4000-8000-000000000000"

# Every role's cases, summed over the parametrised runs of this module (printed at the end of the session).
CASES: Counter = Counter()


def _seed(tenant) -> dict[str, dict[str, str]]:
    """One object of every kind under `tenant`; returns url name -> the URL kwargs that reach it."""
    from tests.test_isolation_matrix import REGISTRY

    reach: dict[str, dict[str, str]] = {}
    for name, entry in sorted(REGISTRY.items()):
        kwargs = entry.kwargs(entry.recipe.one(tenant))
        if kwargs:
            reach[name] = {key: str(value) for key, value in kwargs.items()}
    return reach


def _real_path_parameters(path: str, reach: dict[str, dict[str, str]]) -> dict[str, str] | None:
    """The path parameters of `path` that reach a seeded object, or None when none was seeded."""
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return None
    match = resolve(re.sub(r"{\w+}", PLACEHOLDER, path))
    kwargs = reach.get(match.url_name)
    if kwargs is None:
        return None
    values = {name: kwargs.get("pk" if name == "id" else name) for name in names}
    return values if all(values.values()) else None


def _token(user, tenant=None) -> str:
    with transaction.atomic():
        _, key = token_create(actor=user, user=user, name="fuzz", tenant=tenant, role="")
    return key


@pytest.mark.usefixtures("_in_process_wsgi")
@pytest.mark.parametrize("role", ROLES)
def test_api_answers_every_generated_request_by_its_schema(role, db, monkeypatch):
    # The fuzzer is one client sending hundreds of requests a second: throttles are tested elsewhere
    # (tests/tenancy/test_token_throttling.py). DRF binds the rates when the classes are defined.
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"user": "1000000/min", "token": "1000000/min", "login": "1000000/min"},
    )
    tenant = TenantFactory(name="Fuzz", reference_prefix="FZZ")
    reach = _seed(tenant)
    user = UserFactory(username=f"fuzz-{role}")
    if role == "outsider":
        from tests.test_isolation_matrix import _grant_row

        incident_pk = reach["incident-detail"]["pk"]
        from apps.response.models import Incident

        _grant_row(Incident.unscoped.get(pk=incident_pk), user=user)
    else:
        MembershipFactory(user=user, tenant=tenant, role=role)
    headers = {"Authorization": f"Token {_token(user)}"}

    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    failures: list[str] = []
    cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        real = _real_path_parameters(operation.path, reach)
        strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
        if real:
            strategies += [
                operation.as_strategy(generation_mode=mode, path_parameters=real) for mode in GenerationMode
            ]

        @settings_for_run
        @given(case=st.one_of(strategies))
        def run(case):
            nonlocal cases
            cases += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # one failing operation must not hide the others
            failures.append(f"{operation.label}: {exc}")

    CASES[role] += cases
    assert not failures, "\n\n".join(failures)
    # `make fuzz` proves its figure: each role's share of FUZZ_MIN_CASES.
    assert cases >= MIN_CASES / len(ROLES), f"only {cases} cases for {role}"


settings_for_run = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
