"""Demo data for `make run`: created once, through the same services as real use (so it is audited)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.catalog.models import Category
from apps.response.services import incident_declare, incident_grant, incident_transition
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.models import Tenant
from apps.tenancy.roles import RoleId
from apps.tenancy.services import tenant_create, user_create

DEMO_PASSWORD = "vigil-demo-password"  # noqa: S105 - printed on purpose: demo accounts only
User = get_user_model()

# (title, category code, impact, urgency, restricted, statuses to walk through)
INCIDENTS = {
    "finance": [
        ("Phishing e-mail impersonating the CFO", "phishing", "medium", "medium", False, ["investigating"]),
        (
            "Ransomware note on a payroll file share",
            "infected-system",
            "critical",
            "high",
            True,
            ["investigating"],
        ),
        (
            "Lost laptop with customer invoices",
            "data-loss",
            "high",
            "high",
            False,
            ["investigating", "contained"],
        ),
    ],
    "engineering": [
        ("Leaked API key in a public repository", "data-leak", "high", "high", False, []),
        (
            "Suspicious logins on the build server",
            "brute-force",
            "medium",
            "medium",
            False,
            ["investigating"],
        ),
    ],
}


class Command(BaseCommand):
    help = "Create the demo tenants, users and incidents once, and print the demo logins."

    def handle(self, *args, **options):
        if Tenant.objects.filter(slug="finance").exists():
            self.stdout.write("Demo data exists; kept as it is.")
        else:
            with transaction.atomic():
                self._create()
            self.stdout.write("Demo data created.")
        self._print_logins()

    def _create(self):
        admin = User.objects.create_superuser("admin", "admin@example.org", DEMO_PASSWORD)
        access = access_for(admin)
        group = tenant_create(
            actor=admin,
            access=access,
            name="Acme Group",
            slug="acme",
            reference_prefix="ACME",
            country="FR",
            time_zone="Europe/Paris",
        )
        departments = {
            "finance": tenant_create(
                actor=admin,
                access=access,
                name="Finance",
                slug="finance",
                reference_prefix="FIN",
                parent=group,
                country="FR",
                time_zone="Europe/Paris",
            ),
            "engineering": tenant_create(
                actor=admin,
                access=access,
                name="Engineering",
                slug="engineering",
                reference_prefix="ENG",
                parent=group,
                country="DE",
                time_zone="Europe/Berlin",
            ),
        }
        access = access_for(admin)  # now covering the new tenants
        with activate(access):
            for role in RoleId:
                if role == RoleId.EXECUTIVE:
                    continue
                for slug in ("finance", "engineering"):
                    self._person(
                        admin, access, f"{slug[:3]}-{role.value.replace('_', '-')}", departments[slug], role
                    )
            self._person(admin, access, "executive", group, RoleId.EXECUTIVE)
            counsel = user_create(
                actor=admin,
                access=access,
                username="counsel",
                password=DEMO_PASSWORD,
                first_name="Outside",
                last_name="Counsel",
                tenant=departments["finance"],
            )
            for slug, incidents in INCIDENTS.items():
                for title, code, impact, urgency, restricted, statuses in incidents:
                    incident = incident_declare(
                        actor=admin,
                        access=access,
                        tenant=departments[slug],
                        title=title,
                        category=Category.objects.get(code=code, tenant=None),
                        impact=impact,
                        urgency=urgency,
                        restricted=restricted,
                    )
                    for status in statuses:
                        incident = incident_transition(
                            actor=admin, access=access, incident=incident, to=status
                        )
                    if restricted:
                        incident_grant(
                            actor=admin, access=access, incident=incident, user=counsel, permission="view"
                        )

    def _person(self, admin, access, username, tenant, role):
        return user_create(
            actor=admin,
            access=access,
            username=username,
            password=DEMO_PASSWORD,
            email=f"{username}@example.org",
            first_name=username.split("-")[-1].capitalize(),
            tenant=tenant,
            role=role,
        )

    def _print_logins(self):
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin            platform administrator (superuser)")
        self.stdout.write("  executive        executive of Acme Group (covers Finance and Engineering)")
        for role in RoleId:
            if role != RoleId.EXECUTIVE:
                name = role.value.replace("_", "-")
                self.stdout.write(f"  fin-{name:<13}{role.label} of Finance (eng-{name} in Engineering)")
        self.stdout.write("  counsel          outsider granted one restricted Finance incident")
