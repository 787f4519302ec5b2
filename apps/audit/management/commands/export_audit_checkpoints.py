from pathlib import Path

from django.core.management.base import BaseCommand

from apps.audit.checkpoints import audit_checkpoints_export


class Command(BaseCommand):
    help = (
        "Write the audit trail's signed checkpoints (<chain>-<seq>-<time>.json and .sig) and the public key "
        "(pub.pem) into a directory, for an auditor to verify offline with openssl (README, 'Audit trail')."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Where to write the files (created if missing).")
        parser.add_argument("--chain", help="One chain only (a tenant id, or 'platform').")
        parser.add_argument("--latest", action="store_true", help="Only the latest checkpoint of each chain.")

    def handle(self, *args, directory: Path, chain=None, latest=False, **options):
        written = audit_checkpoints_export(directory=directory, chain=chain, latest=latest)
        self.stdout.write(f"{written} checkpoint(s) and pub.pem written to {directory}")
