import uuid

from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac


class User(AbstractUser):
    """A person or a service account. Tenancy (memberships, grants) lives in apps.tenancy.

    `email` is the address that counts (notifications, single sign-on's linking by e-mail): a new address is
    kept in `pending_email` until the link sent to it is opened (apps.tenancy.services.user_email_change).
    Among active people an address is unique, whatever its case (a database constraint).

    `credentials_changed_at` moves whenever the password is changed or reset (by anyone, through any path:
    API, web, admin, `manage.py changepassword`) or the person is deactivated. Every browser session and every
    API token from before it is dead: sessions through the session hash below, tokens through
    ApiToken.is_live (apps.tenancy.models)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    is_service_account = models.BooleanField(
        default=False, help_text="A machine identity for an external system; signs in only with a token."
    )
    pending_email = models.EmailField(
        blank=True, help_text="A new address waiting for its owner to open the confirmation link sent to it."
    )
    credentials_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Last password change, reset or deactivation: older sessions and tokens ended.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(is_active=True) & ~models.Q(email=""),
                name="accounts_user_active_email_unique",
                violation_error_message="Another active person already uses this e-mail address.",
            )
        ]

    def __str__(self) -> str:
        return self.get_username()

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        loaded = dict(zip(field_names, values, strict=True))
        user._loaded_credentials = (loaded.get("password"), loaded.get("is_active"))
        return user

    def _credentials_ended(self) -> bool:
        """Whether this save changes the password (not a hash upgrade at sign-in) or deactivates."""
        if self._state.adding or not hasattr(self, "_loaded_credentials"):
            return False
        password, is_active = self._loaded_credentials
        if self._password is not None:  # set_password(): a change or reset
            return True
        if password is not None and self.password != password and not is_password_usable(self.password):
            return True  # set_unusable_password(): password sign-in switched off
        return bool(is_active) and not self.is_active

    def save(self, *args, **kwargs):
        if self._credentials_ended():
            self.credentials_changed_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "credentials_changed_at"}
        super().save(*args, **kwargs)
        self._loaded_credentials = (self.password, self.is_active)

    def _get_session_auth_hash(self, secret=None):
        # Django's HMAC of the password hash, plus the moment credentials last ended: a deactivation (even
        # one undone later) ends every session too, not only a new password.
        value = self.password
        if self.credentials_changed_at is not None:
            value = f"{value}\x00{self.credentials_changed_at.isoformat()}"
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            value,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()
