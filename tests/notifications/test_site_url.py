"""SITE_URL, the address the links in e-mails start with, as production settings compute it (DEBUG off,
outside pytest): given, or https + the first ALLOWED_HOSTS entry, and refused when neither names a host."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_SITE_URL = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"


def production_settings(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "ALLOWED_HOSTS", "SITE_URL"}}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SITE_URL],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "site_url"),
    [
        ({"ALLOWED_HOSTS": "vigil.example.org,localhost"}, "https://vigil.example.org"),
        (
            {"ALLOWED_HOSTS": ".example.org", "SITE_URL": "https://vigil.example.org/"},
            "https://vigil.example.org",
        ),
    ],
    ids=["derived", "given"],
)
def test_production_links_start_with_the_sites_address(env, site_url):
    result = production_settings(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == site_url


@pytest.mark.parametrize(
    "env",
    [{}, {"ALLOWED_HOSTS": "*"}, {"ALLOWED_HOSTS": "vigil.example.org", "SITE_URL": "vigil.example.org"}],
    ids=["no-host", "wildcard", "not-a-url"],
)
def test_production_refuses_to_start_without_an_address_for_links(env):
    result = production_settings(**env)
    assert result.returncode != 0
    assert "SITE_URL" in result.stderr
