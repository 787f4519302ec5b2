"""`manage.py generate_data --incidents N --seed S`: the scale benchmark's data set (issue 7).

Run it against a dedicated, freshly migrated database (`make bench-data N=…` recreates vigil_bench):
it refuses a database that already holds tenants, users or incidents it did not generate (--force
overrides) and one that already holds generated data.
"""

from django.core.management.base import BaseCommand, CommandError

from apps.insights.generate import Generator, RefusedError


class Command(BaseCommand):
    help = "Generate a reproducible benchmark data set through COPY (issue 7)."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--grants",
            type=int,
            default=None,
            help="Object-level grants (default: one per 5 incidents, at most 200,000).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Add to a database that holds non-generated data."
        )

    def handle(self, *args, incidents, seed, grants, force, **options):
        if incidents < 1:
            raise CommandError("--incidents must be at least 1")
        generator = Generator(
            incidents=incidents, seed=seed, grants=grants, log=lambda m: self.stdout.write(m)
        )
        try:
            timings = generator.run(force=force)
        except RefusedError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{'table':45} {'rows':>10} {'seconds':>9} {'rows/s':>10}")
        for table, seconds in timings.seconds.items():
            rows = timings.rows[table]
            rate = f"{rows / seconds:10.0f}" if rows and seconds and not table.startswith("(") else ""
            self.stdout.write(f"{table:45} {rows:>10} {seconds:9.2f} {rate:>10}")
