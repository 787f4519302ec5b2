"""Test data. Factories write through the explicit `unscoped` manager: building fixtures is not a
request, so it must not need (or hide a missing) tenant context."""

import itertools

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
