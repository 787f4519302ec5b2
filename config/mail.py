"""How Vigil talks to its SMTP server (config/settings.py reads it; README, "E-mail").

The port says which transport security a server expects, so that is the default: 465 is implicit TLS
(EMAIL_USE_SSL), 587 is submission with STARTTLS (EMAIL_USE_TLS), anything else (25, a local relay, a
development sink on 1025) is plain SMTP. EMAIL_USE_TLS / EMAIL_USE_SSL, when set, win over the port; both
on at once is a contradiction and refused when the settings load, not at the first e-mail."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

IMPLICIT_TLS_PORT = 465
STARTTLS_PORT = 587


def smtp_security(*, port: int, use_tls: bool | None, use_ssl: bool | None) -> tuple[bool, bool]:
    """(EMAIL_USE_TLS, EMAIL_USE_SSL) for `port`; `None` is "not set": the port decides it."""
    if use_tls and use_ssl:
        raise ImproperlyConfigured(
            "EMAIL_USE_TLS and EMAIL_USE_SSL are both on, but a connection is either STARTTLS or "
            f"implicit TLS: set EMAIL_USE_SSL=1 for implicit TLS (usually port {IMPLICIT_TLS_PORT}) or "
            f"EMAIL_USE_TLS=1 for STARTTLS (usually port {STARTTLS_PORT}), not both; unset, the port decides."
        )
    ssl = use_ssl if use_ssl is not None else (port == IMPLICIT_TLS_PORT and not use_tls)
    tls = use_tls if use_tls is not None else (port == STARTTLS_PORT and not ssl)
    return tls, ssl
