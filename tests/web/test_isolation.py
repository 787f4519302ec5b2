"""Every object page answers 404 to a member of another tenant, exactly like a missing object. The list of
pages comes from the URL conf, so a new object page is covered (or fails here until it is)."""

import uuid

import pytest
from django.urls import URLPattern, get_resolver, reverse

OBJECT_KWARGS = {
    "report_id": lambda w: w["report"].pk,
    "incident_id": lambda w: w["incident"].pk,
    "action_id": lambda w: w["action"].pk,
    "evidence_id": lambda w: w["evidence"].pk,
    "obligation_id": lambda w: w["obligation"].pk,
    "grant_id": lambda w: w["grant"].pk,
    "corrective_action_id": lambda w: w["corrective_action"].pk,
    "notification_id": lambda w: w["notification"].pk,
    "assignment_id": lambda w: w["assignment"].pk,
    "token_id": lambda w: _token_of(w["users"]["manager"]).pk,  # one's own API tokens (account pages)
}


def _token_of(user):
    from django.db import transaction

    from apps.tenancy.services import token_create

    with transaction.atomic():
        return token_create(actor=user, user=user, name="isolation")[0]


def object_pages():
    resolver = get_resolver().url_patterns
    web = next(p for p in resolver if getattr(p, "namespace", None) == "web")
    for pattern in web.url_patterns:
        assert isinstance(pattern, URLPattern)
        params = list(pattern.pattern.converters)
        if params:
            yield pattern.name, params, pattern.callback.view_class


PAGES = list(object_pages())


def _handles(view, method: str) -> bool:
    return method in view.http_method_names and hasattr(view, method)


def test_every_object_page_takes_known_object_ids():
    assert PAGES, "the web URL conf has object pages"
    for name, params, _view in PAGES:
        unknown = set(params) - set(OBJECT_KWARGS)
        assert not unknown, f"web:{name} takes {unknown}: teach this test how to build them"


@pytest.mark.parametrize(("name", "params", "view"), PAGES, ids=[p[0] for p in PAGES])
def test_another_tenants_object_answers_404(name, params, view, world, other_tenant, make_member, client_for):
    outsider = make_member("manager", other_tenant)
    client = client_for(outsider)
    url = reverse(f"web:{name}", kwargs={p: OBJECT_KWARGS[p](world) for p in params})
    for method in ("get", "post"):
        if not _handles(view, method):
            continue
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)


@pytest.mark.parametrize(("name", "params", "view"), PAGES, ids=[p[0] for p in PAGES])
def test_a_missing_object_answers_404(name, params, view, world, client_for):
    client = client_for(world["users"]["manager"])
    kwargs = {p: OBJECT_KWARGS[p](world) for p in params}
    kwargs[params[-1]] = 2**62 if params[-1] == "grant_id" else uuid.uuid4()  # grants have integer ids
    url = reverse(f"web:{name}", kwargs=kwargs)
    method = "get" if _handles(view, "get") else "post"
    assert getattr(client, method)(url).status_code == 404
