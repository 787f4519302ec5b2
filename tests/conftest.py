import pytest
from rest_framework.test import APIClient

from apps.tenancy.access import Access, access_for
from apps.tenancy.context import _current, activate
from apps.tenancy.services import token_create
from tests.factories import MembershipFactory, TenantFactory, UserFactory


@pytest.fixture(autouse=True)
def _no_leaked_tenant_context():
    assert _current.get() is None, "a tenant context leaked into this test"
    yield
    assert _current.get() is None, "this test left a tenant context active"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):
    """Each test stores evidence (and spools uploads) in its own directory, never in $VAR_DIR."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence")},
        },
    }
    settings.EVIDENCE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in Redis; tests must not inherit each other's.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Finance", reference_prefix="FIN")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Engineering", reference_prefix="ENG")


@pytest.fixture
def make_member(db):
    def make(role: str, tenant, **user_kwargs):
        user = UserFactory(**user_kwargs)
        MembershipFactory(user=user, tenant=tenant, role=role)
        return user

    return make


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def api_client_for():
    """An APIClient authenticated with a real token of that user (the path external systems use)."""

    def make(user, tenant=None, role: str = ""):
        from django.db import transaction

        with transaction.atomic():
            _, key = token_create(actor=user, user=user, name="test", tenant=tenant, role=role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.user = user
        return client

    return make


@pytest.fixture
def in_tenant():
    """Enter the tenant context of a user (as a request would) around direct service/selector calls."""

    def enter(user):
        return activate(access_for(user))

    return enter


@pytest.fixture
def unused_tcp_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reship_reference_data() -> None:
    """Transactional tests end with a flush (TRUNCATE of every table), which also removes the reference
    data the catalog migrations ship. Put it back the way the migrations do, so every test starts from the
    state a real installation has."""
    import importlib

    from django.apps import apps

    from apps.catalog.models import Category

    if Category.unscoped.filter(tenant__isnull=True).exists():
        return
    # The live models' default managers want a tenant context; the shipped rows belong to no tenant.
    with activate(Access.system([])):
        for name in ("0002_shipped_taxonomy_and_matrix", "0004_shipped_regimes"):
            importlib.import_module(f"apps.catalog.migrations.{name}").ship(apps, None)


@pytest.fixture(autouse=True)
def _shipped_reference_data(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        _reship_reference_data()


@pytest.fixture
def phishing(db):
    """The shipped ENISA/RSIT category most tests file incidents under."""
    from apps.catalog.models import Category

    return Category.unscoped.get(code="phishing", tenant=None)


@pytest.fixture
def handler(make_member, tenant):
    return make_member("handler", tenant)


@pytest.fixture
def manager(make_member, tenant):
    return make_member("manager", tenant)


@pytest.fixture
def declare(api_client_for, manager, tenant, phishing):
    """Declare an incident through the API as the tenant's manager; returns its JSON."""

    def make(**overrides):
        body = {
            "tenant": str(tenant.id),
            "title": "Phishing wave",
            "category": str(phishing.id),
            "impact": "medium",
            "urgency": "high",
            **overrides,
        }
        response = api_client_for(manager).post("/api/v1/incidents/", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return make
