from django.core.management.base import BaseCommand, CommandError

from apps.evidence.verification import package_check


class Command(BaseCommand):
    help = (
        "Verify an evidence package offline: every file's size and SHA-256 against manifest.json, the "
        "manifest's own SHA-256 (when given), and the audit extract's hash chain."
    )

    def add_arguments(self, parser):
        parser.add_argument("package", help="The .zip downloaded from /incidents/{id}/evidence-package/")
        parser.add_argument("--manifest-sha256", help="The X-Manifest-SHA256 header received with it.")
        parser.add_argument("--audit-sha256", help="The X-Audit-Extract-SHA256 header received with it.")

    def handle(self, *args, package, manifest_sha256=None, audit_sha256=None, **options):
        problem, checked = package_check(package, manifest_sha256=manifest_sha256, audit_sha256=audit_sha256)
        if problem:
            raise CommandError(f"package verification FAILED: {problem}")
        self.stdout.write(f"OK: {checked} file(s) match the manifest; the audit extract's chain is intact")
