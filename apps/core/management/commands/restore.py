from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.core.backup import restore


class Command(BaseCommand):
    help = "Restore a backup (from `backup`) into an EMPTY database and an EMPTY evidence storage."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="The backup directory (with manifest.json).")

    def handle(self, *args, backup, **options):
        restore(source=Path(backup).resolve(), log=self.stdout.write)
        # The dump carries no privileges (--no-privileges): migrate (nothing left to apply) re-applies the
        # runtime roles' grants and the row-level security policies after every run.
        call_command("migrate", verbosity=0)
        self.stdout.write(f"Restored {backup}; run `verify_audit` to check the audit chains.")
