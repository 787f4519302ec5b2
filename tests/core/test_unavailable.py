"""PostgreSQL or Redis unreachable: 503 with Retry-After (JSON on the API, a plain page on the web), never a
500 (apps/core/unavailable.py). The real outages run in tests/integration/test_fault_*.py; here the failure
is raised where it would surface, in process."""

import pytest
from django.contrib.sessions.backends.cache import SessionStore  # settings.SESSION_ENGINE
from django.db import InterfaceError, OperationalError
from django.test import Client

from apps.reporting.api import views as report_views
from apps.tenancy.api.base import TenantScopedViewSet

UNAVAILABLE = {"detail": "Service temporarily unavailable", "code": "database_unavailable"}


def _lost_connection(*args, **kwargs):
    raise OperationalError("terminating connection due to administrator command")


def test_an_api_request_the_database_fails_answers_503_json(db, handler, api_client_for, monkeypatch):
    client = api_client_for(handler)
    monkeypatch.setattr(report_views.selectors, "report_list", _lost_connection)
    response = client.get("/api/v1/reports/")
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response["Retry-After"] == "5"


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_failure_around_the_api_handler_answers_503_too(db, handler, api_client_for, monkeypatch, error):
    """The request's transaction failing to begin or to commit happens around DRF's exception handler."""

    def dispatch(self, request, *args, **kwargs):
        raise error("connection already closed")

    monkeypatch.setattr(TenantScopedViewSet, "dispatch", dispatch)
    response = api_client_for(handler).post("/api/v1/reports/", {}, format="json")
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response["Retry-After"] == "5"


def test_a_web_page_the_database_fails_answers_a_plain_503_page(db, monkeypatch):
    monkeypatch.setattr(SessionStore, "load", _lost_connection)
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32
    response = client.get("/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    assert b"Service temporarily unavailable" in response.content


def test_other_errors_still_answer_500(db, handler, api_client_for, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(report_views.selectors, "report_list", broken)
    client = api_client_for(handler)
    client.raise_request_exception = False
    response = client.get("/api/v1/reports/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}


@pytest.fixture
def redis_down(settings, unused_tcp_port):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_tcp_port}/0",
        }
    }


def test_with_redis_down_the_api_is_served_unthrottled(db, handler, api_client_for, redis_down):
    response = api_client_for(handler).get("/api/v1/reports/")
    assert response.status_code == 200


def test_with_redis_down_the_token_endpoint_answers_503_not_500(db, handler, redis_down):
    client = Client(raise_request_exception=False)
    body = {"username": handler.username, "password": "wrong-password-123"}
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 503
    assert response.json() == {"detail": "Service temporarily unavailable", "code": "cache_unavailable"}
    assert response["Retry-After"] == "5"
