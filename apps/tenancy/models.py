import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from apps.core.models import UUIDModel
from apps.tenancy.managers import TenantManager
from apps.tenancy.roles import RoleId

_AVAILABLE_TIME_ZONES = frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _AVAILABLE_TIME_ZONES:
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris).")


class Tenant(UUIDModel):
    """A department or business unit of the hosting organisation; tenants form a tree."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of ids from the root ("/<root>/<child>/"): descendants are one indexed prefix scan.
    path = models.CharField(max_length=1024, editable=False, db_index=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "An ISO 3166-1 alpha-2 code in capitals, e.g. FR.")],
    )
    reference_prefix = models.CharField(
        max_length=10,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z][A-Z0-9]{1,9}$", "2-10 capitals or digits, starting with a letter.")
        ],
        help_text="Prefix of human incident references, e.g. FIN in FIN-2026-0042.",
    )
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["path"], name="tenancy_tenant_path_like", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return self.name


class TenantScopedModel(models.Model):
    """Base of every tenant-owned row: NOT NULL tenant, fail-closed default manager."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")

    objects = TenantManager()
    # The explicit escape hatch for system jobs and the grant-join selectors; never in views.
    unscoped = models.Manager()

    class Meta:
        abstract = True


class MembershipSource(models.TextChoices):
    MANUAL = "manual", "Assigned by hand"
    SSO = "sso", "Single sign-on (identity-provider group)"


class Membership(UUIDModel, TenantScopedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=RoleId.choices)
    # Who manages the membership: single sign-on adds and removes its own ("sso") at each sign-in from the
    # identity provider's groups (apps/tenancy/sso.py) and never touches the ones assigned by hand.
    source = models.CharField(
        max_length=10, choices=MembershipSource.choices, default=MembershipSource.MANUAL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="tenancy_membership_user_tenant")
        ]
        indexes = [models.Index(fields=["tenant", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.tenant}"


class Outsider(UUIDModel, TenantScopedModel):
    """A person without membership that a tenant brought in (outside investigator, counsel).

    It makes the person visible to that tenant's admins so objects can be granted to them; it confers no
    access by itself.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sponsorships")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="tenancy_outsider_user_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} (outsider of {self.tenant})"


class ExternalIdentity(UUIDModel):
    """A person's account at an OpenID Connect provider: the (issuer, subject) pair of its ID tokens.

    Single sign-on finds people by this pair, never by e-mail alone (a provider may let people change their
    address). Not tenant-owned: it is read before anyone is signed in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="tenancy_externalidentity_unique"),
            # One account per person at each provider: a second subject cannot take over a linked user.
            models.UniqueConstraint(fields=["issuer", "user"], name="tenancy_externalidentity_user"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenManager(models.Manager):
    """Never reads `key_hash`: the app's database role may not (apps/tenancy/rls.py, issue 14), so it cannot
    list the digests; a key is found by its exact digest through `ApiToken.with_key`."""

    def get_queryset(self):
        return super().get_queryset().defer("key_hash")


class ApiToken(UUIDModel):
    """A bearer token. Personal tokens act as the user; service-account tokens are capped at one tenant
    and one role. Only the SHA-256 of the key is stored: the key is shown once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=200)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=12, editable=False)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=RoleId.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        verbose_name = "API token"
        base_manager_name = "objects"  # deletes and refreshes do not read key_hash either
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(tenant__isnull=True, role="")
                    | models.Q(tenant__isnull=False) & ~models.Q(role="")
                ),
                name="tenancy_apitoken_bound_has_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    def is_live(self, now=None) -> bool:
        """Not revoked, not expired, and issued after its user's last password change, reset or
        deactivation (User.credentials_changed_at): the one rule of which tokens still sign in."""
        now = now or timezone.now()
        ended_at = self.user.credentials_changed_at
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > now)
            and (ended_at is None or self.created_at >= ended_at)
        )

    @staticmethod
    def live_q(now=None) -> models.Q:
        """is_live() as a filter."""
        now = now or timezone.now()
        return (
            models.Q(revoked_at__isnull=True)
            & (models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))
            & (
                models.Q(user__credentials_changed_at__isnull=True)
                | models.Q(created_at__gte=models.F("user__credentials_changed_at"))
            )
        )

    @staticmethod
    def with_key(key: str) -> models.Q:
        """The token of this key, found by its exact digest by the database function vigil_api_token_id
        (SECURITY DEFINER: the one read of key_hash there is), in the same query."""
        lookup = models.Func(
            models.Value(hash_token(key)), function="vigil_api_token_id", output_field=models.UUIDField()
        )
        return models.Q(pk=lookup)

    @staticmethod
    def generate_key() -> str:
        return "vgl_" + secrets.token_urlsafe(32)


class MembershipRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class MembershipRequest(UUIDModel, TenantScopedModel):
    """A role change or new membership that would widen its requester's own access (four-eyes): it takes
    effect only when another administrator of the tenant, or a platform administrator, approves it
    (apps/tenancy/four_eyes.py)."""

    # The membership is the person's in the tenant (unique per user and tenant): none yet when
    # `previous_role` is empty (a new membership), else the one whose role changes.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=RoleId.choices)
    previous_role = models.CharField(max_length=20, choices=RoleId.choices, blank=True)
    status = models.CharField(
        max_length=10, choices=MembershipRequestStatus.choices, default=MembershipRequestStatus.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open request per person and tenant: a second one would race the first.
            models.UniqueConstraint(
                fields=["user", "tenant"],
                condition=models.Q(status="pending"),
                name="tenancy_membershiprequest_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.tenant} ({self.status})"


class ReferenceCounter(TenantScopedModel):
    """The last number handed out per tenant, kind (incident, report) and year."""

    kind = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "year"], name="tenancy_referencecounter_unique")
        ]
