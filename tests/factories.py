"""Test data. Factories write through the explicit `unscoped` manager: building fixtures is not a
request, so it must not need (or hide a missing) tenant context."""

import itertools
import uuid

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.response.models import Incident
from apps.tenancy.models import Membership, Tenant

_prefixes = (f"T{n:03d}" for n in itertools.count(1))


class UnscopedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class):
        return getattr(model_class, "unscoped", model_class._default_manager)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"dept-{n}")
    reference_prefix = factory.LazyFunction(lambda: next(_prefixes))
    time_zone = "Europe/Paris"
    country = "FR"
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        tenant = model_class(*args, **kwargs)
        parent = kwargs.get("parent")
        tenant.path = f"{parent.path if parent else '/'}{tenant.id}/"
        tenant.save(force_insert=True)
        return tenant


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class MembershipFactory(UnscopedFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = "handler"


class IncidentFactory(UnscopedFactory):
    class Meta:
        model = Incident

    tenant = factory.SubFactory(TenantFactory)
    reference = factory.Sequence(lambda n: f"INC-2026-{n:05d}")
    title = factory.Sequence(lambda n: f"Incident {n}")
    declared_at = factory.LazyFunction(timezone.now)
    severity = "P3"


def make_evidence(
    incident=None, *, report=None, content: bytes | None = None, name: str = "capture.log", **fields
):
    """An evidence item with its bytes really stored (content-addressed) and its `collected` custody entry,
    written directly (no request, no events): fixtures for reads, downloads, verification and packages."""
    import hashlib

    from django.core.files.base import ContentFile

    from apps.evidence.files import evidence_storage, storage_key_for
    from apps.evidence.models import CustodyEvent, Evidence

    owner = incident or report
    content = content if content is not None else f"evidence {uuid.uuid4()}\n".encode()
    sha256 = hashlib.sha256(content).hexdigest()
    key = storage_key_for(tenant_id=owner.tenant_id, sha256=sha256)
    if not evidence_storage().exists(key):
        key = evidence_storage().save(key, ContentFile(content))
    collector = fields.pop("collected_by", None) or UserFactory()
    now = timezone.now()
    evidence = Evidence.unscoped.create(
        tenant_id=owner.tenant_id,
        incident=incident,
        report=report,
        sha256=sha256,
        size=len(content),
        storage_key=key,
        original_name=name,
        source="host",
        method="log_export",
        collected_by=collector,
        collected_at=now,
        uploaded_by=collector,
        uploaded_at=now,
        **fields,
    )
    CustodyEvent.unscoped.create(
        tenant_id=owner.tenant_id,
        evidence=evidence,
        action="collected",
        at=now,
        actor=collector,
        actor_repr=collector.get_username(),
        to_holder=collector.get_username(),
    )
    return evidence
