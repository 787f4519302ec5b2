from django.core.management.base import BaseCommand, CommandError

from apps.audit.selectors import audit_chain_verify, audit_chains
from apps.tenancy.context import SYSTEM_DATABASE


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chains, their keys and signed checkpoints; "
        "report the first broken link of each."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chain", help="Verify one chain only (a tenant id, or 'platform').")
        parser.add_argument(
            "--database",
            default=SYSTEM_DATABASE,
            help="The connection to read the chains on (default: the system one, which reads them all).",
        )

    def handle(self, *args, chain=None, database=SYSTEM_DATABASE, **options):
        chains = [chain] if chain else audit_chains(using=database)
        breaks = [
            found for name in chains if (found := audit_chain_verify(chain=name, using=database)) is not None
        ]
        for found in breaks:
            self.stderr.write(str(found))
        if breaks:
            raise CommandError(f"{len(breaks)} of {len(chains)} audit chain(s) broken")
        self.stdout.write(f"OK: {len(chains)} audit chain(s) intact")
