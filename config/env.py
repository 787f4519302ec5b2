"""The only module that reads the process environment (12-factor settings)."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required "
            "(run through `make run` / `make test` to get the embedded defaults)."
        )
    return value


def env_bool(name: str, default: bool | None = False) -> bool | None:
    """`default` when unset or empty (None: the caller tells "not set" from "off")."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def derived_role_password(secret_key: str, role: str) -> str:
    """The password of a database role `migrate` creates for the app (settings, "Database roles")."""
    import hashlib
    import hmac

    return hmac.new(secret_key.encode(), f"vigil database role {role}".encode(), hashlib.sha256).hexdigest()


def env_secret(name: str, *, derived_from: str) -> bytes:
    """A key that must never sit in the database: `NAME` (the value itself), or `NAME_FILE` (the path of a
    file holding it, as a secrets manager or KMS agent mounts it; surrounding whitespace ignored). Unset,
    it is derived from `derived_from` (SECRET_KEY), like the database roles' passwords."""
    import hashlib
    import hmac

    value = os.environ.get(name, "")
    path = os.environ.get(f"{name}_FILE", "")
    if value and path:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    if path:
        try:
            value = Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from exc
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE: {path} is empty")
    if value:
        return value.encode()
    return hmac.new(derived_from.encode(), f"vigil {name}".encode(), hashlib.sha256).digest()


def env_secret_lines(name: str) -> list[bytes]:
    """Keys listed one per line in the file named by `name` (blank lines and `#` comments skipped); none
    when unset."""
    path = os.environ.get(name, "")
    if not path:
        return []
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}: cannot read {path}: {exc}") from exc
    return [line.strip().encode() for line in lines if line.strip() and not line.strip().startswith("#")]
