from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.second_factor import second_factor_remove


class Command(BaseCommand):
    help = (
        "Reset a person's two-factor authentication (lost phone, no recovery codes left): removes their "
        "authenticator and recovery codes, audited as auth.2fa_reset. At their next sign-in they set up a "
        "new authenticator (those whose role requires one are sent there at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="Whose two-factor authentication to reset.")
        parser.add_argument(
            "--by", required=True, help="Username of the platform administrator resetting it."
        )
        parser.add_argument("--reason", default="", help="Why, for the audit trail (e.g. a ticket number).")

    def handle(self, *args, username, by, reason, **options):
        users = get_user_model().objects
        admin = users.filter(username=by, is_active=True, is_superuser=True).first()
        if admin is None:
            raise CommandError("--by must name an active platform administrator (superuser).")
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not second_factor_remove(actor=admin, user=user, reason=reason):
            self.stdout.write(f"{user.username} had no two-factor authentication; nothing to reset.")
            return
        self.stdout.write(
            f"Two-factor authentication of {user.username} was reset by {admin.username}. They set up a "
            "new authenticator at their next sign-in. If the old phone may be in someone else's hands, also "
            "set a new password: that ends their other sessions."
        )
