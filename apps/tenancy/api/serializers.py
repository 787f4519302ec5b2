from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.tenancy import selectors
from apps.tenancy.models import ApiToken, Membership, MembershipRequest, Tenant
from apps.tenancy.roles import RoleId

User = get_user_model()


def _tenants(access):
    return selectors.tenant_list(access=access)


def _users(access):
    return selectors.user_list(access=access)


class TenantSerializer(StrictModelSerializer):
    parent = ScopedPrimaryKeyRelatedField(_tenants, allow_null=True, required=False)

    class Meta:
        model = Tenant
        fields = ["id", "name", "slug", "parent", "time_zone", "country", "reference_prefix", "created_at"]
        read_only_fields = ["id", "created_at"]


class UserSerializer(StrictModelSerializer):
    pending_email = serializers.CharField(
        read_only=True,
        help_text="A new address waiting for its owner to open the link sent to it (else empty); "
        "`email` changes to it then.",
    )
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    tenant = ScopedPrimaryKeyRelatedField(
        _tenants, write_only=True, required=False, help_text="On create: the tenant the person joins."
    )
    role = serializers.ChoiceField(
        choices=RoleId.choices,
        write_only=True,
        required=False,
        help_text="On create: the role in `tenant`; without it the person is an outsider of that tenant.",
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "is_service_account",
            "password",
            "pending_email",
            "tenant",
            "role",
        ]
        read_only_fields = ["id", "is_service_account"]
        extra_kwargs = {"username": {"validators": []}}

    def validate_username(self, value):
        instance_pk = self.instance.pk if self.instance else None
        if User.objects.filter(username=value).exclude(pk=instance_pk).exists():
            raise serializers.ValidationError("A user with that username already exists.")
        return value


class UserUpdateSerializer(UserSerializer):
    current_password = serializers.CharField(
        write_only=True,
        required=False,
        max_length=4096,
        style={"input_type": "password"},
        help_text="Required to change one's own `password` or `email`.",
    )

    class Meta(UserSerializer.Meta):
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "is_service_account",
            "password",
            "current_password",
            "pending_email",
        ]


class MembershipSerializer(StrictModelSerializer):
    user = ScopedPrimaryKeyRelatedField(_users)
    tenant = ScopedPrimaryKeyRelatedField(_tenants)

    class Meta:
        model = Membership
        fields = ["id", "user", "tenant", "role", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []  # uniqueness is the service's rule, with a clearer message


class MembershipUpdateSerializer(StrictModelSerializer):
    class Meta:
        model = Membership
        fields = ["id", "user", "tenant", "role", "created_at"]
        read_only_fields = ["id", "user", "tenant", "created_at"]


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})
    otp = serializers.CharField(max_length=16, required=False, allow_blank=True)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class OwnTokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="Whether this request is signed with this token.")
    role = serializers.CharField(
        read_only=True, help_text="The role a tenant-bound token is capped at; empty for a personal token."
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "key_prefix",
            "tenant",
            "role",
            "created_at",
            "expires_at",
            "last_used_at",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, token) -> bool:
        request = self.context.get("request")
        auth = getattr(request, "auth", None)
        return isinstance(auth, ApiToken) and auth.pk == token.pk


@extend_schema_serializer(component_name="MembershipChangeRequest")
class MembershipRequestSerializer(serializers.ModelSerializer):
    previous_role = serializers.CharField(
        read_only=True, help_text="The role before the change; empty when it asks for a new membership."
    )

    class Meta:
        model = MembershipRequest
        fields = [
            "id",
            "user",
            "tenant",
            "role",
            "previous_role",
            "status",
            "requested_by",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields
