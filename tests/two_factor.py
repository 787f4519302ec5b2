"""Second-factor helpers for tests: a real TOTP device per person, the codes its app would show, and a
session marked verified with it (django_otp.login), as the two-factor step does after a right code.

Pages and the admin site need a passed second factor of managers, tenant admins, executives, staff and
anyone using the admin (apps.tenancy.two_factor). Tests that are about something else sign in with
`sign_in_verified` (or the `verified_client_for` fixture, tests/conftest.py); the requirement itself is
never switched off."""

from __future__ import annotations

import time

import django_otp
from django.http import HttpRequest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def authenticator_for(user) -> TOTPDevice:
    """The person's confirmed authenticator, made when they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code_for_key(key: bytes, *, step: int = 30, t0: int = 0, digits: int = 6, drift: int = 0) -> str:
    return f"{totp(key, step=step, t0=t0, digits=digits, drift=drift):0{digits}d}"


def totp_code(device: TOTPDevice) -> str:
    """The code the person's app shows now, or the next one when the current one was used already (a used
    time step is refused: replay protection)."""
    device.refresh_from_db()
    now_t = (int(time.time()) - device.t0) // device.step
    t = max(now_t + device.drift, device.last_t + 1)
    return code_for_key(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=t - now_t)


def pass_second_factor(client: Client, user) -> TOTPDevice:
    """Mark the client's (signed-in) session verified with the person's authenticator."""
    device = authenticator_for(user)
    request = HttpRequest()
    request.session = client.session
    request.user = user
    django_otp.login(request, device)
    request.session.save()
    return device


def sign_in_verified(client: Client, user) -> Client:
    """A session signed in as the person with the second factor passed."""
    client.force_login(user)
    pass_second_factor(client, user)
    return client
