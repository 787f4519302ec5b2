from django.db import models


class SignInThrottle(models.Model):
    """Failed sign-ins of one username from one address (apps/web/lockout.py). Not tenant-owned: the
    person is not signed in yet, so there is no tenant to scope by. One row per (username, address), and one
    per address with the empty username (lockout.ANY_USERNAME) counting its failures across usernames."""

    username = models.CharField(max_length=150)
    ip = models.CharField(max_length=45, blank=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["username", "ip"], name="web_signin_throttle_key")]

    def __str__(self) -> str:
        return f"sign-in throttle of {self.username} from {self.ip or 'unknown address'}"
