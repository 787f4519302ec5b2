import pytest
from rest_framework.test import APIClient

from apps.tenancy import context as tenant_context
from apps.tenancy.access import access_for
from apps.tenancy.context import _current, activate
from apps.tenancy.services import token_create
from tests import production_paths
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
def verified_client_for(db):
    """A Django test Client signed in as the user with the second factor passed (tests/two_factor.py):
    what a browser holds after the password and the code."""
    from django.test import Client

    from tests.two_factor import sign_in_verified

    return lambda user: sign_in_verified(Client(), user)


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


# --------------------------------------------------------------------------------------------------
# The database roles (settings, "Database roles"): the test database is created and migrated by the owner,
# then every test runs the app as the restricted runtime role under row-level security (apps.tenancy.rls).
# --------------------------------------------------------------------------------------------------


_CREDENTIALS = ("USER", "PASSWORD")
_RUNTIME: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    from django.db import connections

    default, owner = connections["default"].settings_dict, connections["owner"].settings_dict
    _RUNTIME.update({key: default[key] for key in _CREDENTIALS})
    default.update({key: owner[key] for key in _CREDENTIALS})  # the owner creates and migrates it


@pytest.fixture(scope="session", autouse=True)
def _app_runs_as_runtime_role(django_db_setup, django_db_blocker):
    from django.db import connections
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX

    default = connections["default"]
    if not default.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
        yield  # no test of this run uses the database: pytest-django created none
        return
    for alias in ("owner", "system"):  # one database, three roles (pytest-django renames only those in use)
        connections[alias].settings_dict["NAME"] = default.settings_dict["NAME"]
    with django_db_blocker.unblock():
        _snapshot_shipped_reference_data()
    default.close()
    default.settings_dict.update(_RUNTIME)
    yield
    default.close()
    default.settings_dict.update({key: connections["owner"].settings_dict[key] for key in _CREDENTIALS})


# The suite reads across tenants outside any context; the app's code never does (tests/production_paths.py).
@pytest.fixture(autouse=True)
def _suite_reads_across_tenants(request):
    if request.node.get_closest_marker("strict_rls"):
        yield
        return
    production_paths.set_widening(True)
    yield
    production_paths.set_widening(False)


@pytest.fixture(scope="session", autouse=True)
def _app_code_runs_as_in_production():
    production_paths.install_entry_points()
    yield
    production_paths.remove_entry_points()


@pytest.fixture(autouse=True)
def _app_code_never_under_the_widening():
    """Fails a test whose app code queried the database outside every context under the widening."""
    from django.db import connections

    guard = production_paths.active_guard = production_paths.QueryGuard()
    with connections["default"].execute_wrapper(guard):
        yield
    if guard.violations:
        pytest.fail(
            "the app's code queried the database outside every tenant context, under the test suite's "
            "cross-tenant widening (tests/production_paths.py); in production it would see nothing:\n"
            + "\n".join(guard.violations[:3]),
            pytrace=False,
        )


def _tenant_created(sender, instance, created, **kwargs) -> None:
    if created and _current.get() is None:
        tenant_context._write_session(None)


def pytest_configure(config):
    config.addinivalue_line("markers", "strict_rls: outside a tenant context the database shows nothing")


@pytest.fixture(scope="session", autouse=True)
def _refresh_on_new_tenant():
    from django.db.models.signals import post_save

    from apps.tenancy.models import Tenant

    post_save.connect(_tenant_created, sender=Tenant, dispatch_uid="tests_rls_new_tenant")
    yield
    post_save.disconnect(sender=Tenant, dispatch_uid="tests_rls_new_tenant")


_SHIPPED: dict[str, bytes] = {}


def _owner_connection():
    import psycopg
    from django.db import connections

    params = connections["owner"].get_connection_params()
    params["dbname"] = connections["default"].settings_dict["NAME"]
    return psycopg.connect(**params, autocommit=True)


def _snapshot_shipped_reference_data() -> None:
    from psycopg import sql

    from apps.tenancy.rls import protected_models

    with _owner_connection() as owner:
        for model in protected_models():
            if model._meta.get_field("tenant").null:
                table = model._meta.db_table
                query = sql.SQL("COPY (SELECT * FROM {} WHERE tenant_id IS NULL) TO STDOUT")
                with owner.cursor().copy(query.format(sql.Identifier(table))) as copy:
                    _SHIPPED[table] = b"".join(bytes(block) for block in copy)


def _reship_reference_data() -> None:
    """Transactional tests end with a flush (TRUNCATE of every table), which also removes the reference
    data the catalog migrations ship. Put back what migrate shipped (as the owner: the runtime role may not
    write shipped rows), so every test starts from the state a real installation has."""
    from psycopg import sql

    with _owner_connection() as owner:
        if owner.execute("SELECT EXISTS (SELECT FROM catalog_category WHERE tenant_id IS NULL)").fetchone()[
            0
        ]:
            return
        for table, data in _SHIPPED.items():
            with owner.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))) as copy:
                copy.write(data)


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
