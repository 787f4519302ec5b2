"""`migrate` runs as the tables' owner (the "owner" connection), never as the restricted runtime role the
app serves with (settings, "Database roles"); row-level security is applied after it (apps.tenancy.rls)."""

from django.core.management.commands.migrate import Command as DjangoMigrate


class Command(DjangoMigrate):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(database="owner")
