"""Signing in to the admin in the browser as someone who needs a second factor (h4).

The person has an authenticator already set up (a confirmed TOTP device); after the password
they type the code it shows now, computed here as the app would from the device's secret.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"


def admin_sign_in_with_code(page: Any, base: str, username: str, password: str) -> None:
    """Sign in with the password, then the authenticator's current code; end on the admin."""
    user = User.objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    page.goto(base + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/accounts/two-factor/**")
    page.fill("#id_code", current_code(device))
    page.click("form:has(#id_code) button[type=submit]")
    page.wait_for_url(base + "/admin/")
