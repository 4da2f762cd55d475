"""Two-factor sign-in for the admin (django-otp, TOTP): set up an authenticator, then use it.

project/middleware.py sends publishers of rules and superusers here before any admin page.
A person without a confirmed authenticator sees a QR code and its secret, and confirms with a
first code; afterwards each session asks for a current code. django-otp throttles wrong codes.
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("admin:index")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    devices = TOTPDevice.objects.filter(user_id=request.user.pk)
    device = devices.filter(confirmed=True).order_by("pk").first()
    setting_up = device is None
    if device is None:
        device = devices.filter(confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(
                user_id=request.user.pk, name="authenticator", confirmed=False
            )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("code", _("This code is not valid now. Type the code shown in the app."))
    context: dict[str, object] = {
        "form": form,
        "setting_up": setting_up,
        "next": _next_url(request),
    }
    if setting_up:
        context["secret"] = b32encode(device.bin_key).decode()
        context["qr_code"] = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    return render(request, "registration/two_factor.html", context)
