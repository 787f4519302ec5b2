from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.models import Tenant
from apps.tenancy.roles import RoleId
from apps.tenancy.services import service_account_create


class Command(BaseCommand):
    help = "Create a service account for an external system (SIEM, ticketing, HR, GRC); print its token once."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Slug of the tenant the account is bound to.")
        parser.add_argument("--role", required=True, choices=RoleId.values)
        parser.add_argument("--name", required=True, help="What the account is for, e.g. siem.")
        parser.add_argument("--by", required=True, help="Username of the platform administrator creating it.")

    def handle(self, *args, tenant, role, name, by, **options):
        admin = get_user_model().objects.filter(username=by, is_active=True).first()
        bound = Tenant.objects.filter(slug=tenant).first()
        if admin is None or bound is None:
            raise CommandError("Unknown --by user or --tenant slug.")
        access = access_for(admin)
        try:
            with activate(access), transaction.atomic():
                user, _token, key = service_account_create(
                    actor=admin, access=access, tenant=bound, role=role, name=name
                )
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Service account {user.username} ({role} of {bound.name}).")
        self.stdout.write(f"Token (shown once, store it in the external system): {key}")
