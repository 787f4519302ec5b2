"""SMTP transport security follows the port unless EMAIL_USE_TLS / EMAIL_USE_SSL say otherwise (issue 13,
defect 11: EMAIL_USE_TLS used to be on for every port, so a plain SMTP server on 25 never got mail)."""

import pytest

from config.mail import smtp_security
from tests.core.test_settings import _manage

PRINT_SECURITY = "from django.conf import settings; print(settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL)"


@pytest.mark.parametrize(
    ("port", "use_tls", "use_ssl", "expected"),
    [
        (465, None, None, (False, True)),  # implicit TLS
        (587, None, None, (True, False)),  # submission with STARTTLS
        (25, None, None, (False, False)),  # plain
        (1025, None, None, (False, False)),  # a development sink
        (2525, True, None, (True, False)),  # explicit STARTTLS on another port
        (2465, None, True, (False, True)),  # explicit implicit TLS on another port
        (587, False, None, (False, False)),  # a plain relay listening on 587
        (465, True, None, (True, False)),  # STARTTLS wins over what 465 implies
        (465, None, False, (False, False)),
    ],
)
def test_the_port_implies_the_transport_security_unless_told(port, use_tls, use_ssl, expected):
    assert smtp_security(port=port, use_tls=use_tls, use_ssl=use_ssl) == expected


@pytest.mark.parametrize(
    ("env", "printed"),
    [
        ({"EMAIL_PORT": "25"}, "False False"),
        ({"EMAIL_PORT": "465"}, "False True"),
        ({}, "True False"),  # EMAIL_PORT defaults to 587
        ({"EMAIL_PORT": "25", "EMAIL_USE_TLS": "1"}, "True False"),
    ],
)
def test_settings_derive_it_from_the_environment(env, printed):
    result = _manage("shell", "-c", PRINT_SECURITY, DEBUG="1", EMAIL_HOST="mail.example.org", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == printed


def test_tls_and_ssl_at_once_refuse_to_start_and_say_why():
    result = _manage("check", DEBUG="1", EMAIL_HOST="mail.example.org", EMAIL_USE_TLS="1", EMAIL_USE_SSL="1")
    assert result.returncode != 0
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL are both on" in result.stderr
    assert "not both" in result.stderr
