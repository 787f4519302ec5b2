from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.core.backup import backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump) and the evidence storage into a new directory with a manifest."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="Directory to create (default: $VAR_DIR/backups/vigil-<UTC timestamp>).",
        )

    def handle(self, *args, output=None, **options):
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        target = Path(output) if output else settings.VAR_DIR / "backups" / f"vigil-{stamp}"
        manifest = backup(output=target.resolve(), log=self.stdout.write)
        self.stdout.write(f"Backup written to {target} ({len(manifest['files'])} files, manifest.json)")
