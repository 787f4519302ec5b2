from pathlib import Path

from django.core.management.base import BaseCommand

from apps.core.backup import restore


class Command(BaseCommand):
    help = "Restore a backup (from `backup`) into an EMPTY database and an EMPTY evidence storage."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="The backup directory (with manifest.json).")

    def handle(self, *args, backup, **options):
        restore(source=Path(backup).resolve(), log=self.stdout.write)
        self.stdout.write(f"Restored {backup}; run `verify_audit` to check the audit chains.")
