"""The other doors into the tenant context: Celery tasks and server-rendered pages."""

import pytest
from celery import shared_task
from django.http import HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.views import View

from apps.core.origin import current_origin
from apps.response.models import Incident
from apps.tenancy.tasks import TenantTask
from apps.tenancy.views import TenantScopedViewMixin
from tests.factories import IncidentFactory


@shared_task(base=TenantTask, name="tests.count_incidents")
def count_incidents(*, tenant_id):
    return {"count": Incident.objects.count(), "channel": current_origin().channel}


def test_a_tenant_task_sees_exactly_its_tenant(tenant, other_tenant):
    IncidentFactory(tenant=tenant)
    IncidentFactory(tenant=other_tenant)
    IncidentFactory(tenant=other_tenant)
    assert count_incidents.apply(kwargs={"tenant_id": other_tenant.id}).get() == {
        "count": 2,
        "channel": "task",
    }


def test_a_tenant_task_refuses_to_run_without_a_tenant(db):
    with pytest.raises(TypeError, match="tenant_id"):
        count_incidents.apply(throw=True).get()


class IncidentCountPage(TenantScopedViewMixin, View):
    def get(self, request):
        template = engines["django"].from_string("{{ incidents.count }} incidents")
        # Lazy on purpose: the queryset is evaluated when the response renders.
        return TemplateResponse(request, template, {"incidents": Incident.objects.all()})


class PlainPage(TenantScopedViewMixin, View):
    def get(self, request):
        return HttpResponse(str(Incident.objects.count()))


def test_pages_run_and_render_inside_the_callers_context(tenant, other_tenant, make_member):
    IncidentFactory(tenant=tenant)
    IncidentFactory(tenant=other_tenant)
    request = RequestFactory().get("/")
    request.user = make_member("handler", tenant)
    response = IncidentCountPage.as_view()(request)
    assert response.content == b"1 incidents"
    assert PlainPage.as_view()(request).content == b"1"


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/reports/", "/api/v1/audit/"])
def test_an_api_read_asked_for_as_html_answers_json_and_leaves_no_context(
    path, tenant, make_member, api_client_for
):
    """A browser's Accept header gets JSON: a renderer that ran after the view (DRF's browsable API, whose
    forms check permissions again) entered the caller's tenant context and never left it, so the thread's
    next request began inside it."""
    from apps.tenancy import context

    IncidentFactory(tenant=tenant)
    response = api_client_for(make_member("manager", tenant)).get(
        path, HTTP_ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    )
    assert response.status_code in (200, 403)
    assert response["Content-Type"] == "application/json"
    assert context.current_or_none() is None
