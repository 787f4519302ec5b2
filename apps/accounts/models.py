import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person or a service account. Tenancy (memberships, grants) lives in apps.tenancy."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    is_service_account = models.BooleanField(
        default=False, help_text="A machine identity for an external system; signs in only with a token."
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_username()
