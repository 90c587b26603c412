"""Account forms: Django's auth forms, adapted to email logins, phones and time zones."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import (
    AuthenticationForm,
    BaseUserCreationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    UsernameField,
)
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from apps.accounts import services
from apps.accounts.models import User, normalize_email_address
from apps.accounts.phone import normalize_phone

# The longest address an EmailField stores (RFC 5321 path limit), and a generous bound on passwords:
# a megabyte "password" would only make the hasher work for nothing.
EMAIL_MAX_LENGTH = 254
PASSWORD_MAX_LENGTH = 4096

UNIQUE_MESSAGES = {
    "email": {"unique": _("An account with this email already exists.")},
    "phone": {"unique": _("An account with this phone number already exists.")},
}


def bound_length(field: forms.Field, max_length: int) -> None:
    """Enforce ``max_length`` on an already built field (setting the attribute alone does not)."""
    field.max_length = max_length
    if not any(isinstance(v, MaxLengthValidator) and v.limit_value == max_length
               for v in field.validators):
        field.validators.append(MaxLengthValidator(max_length))
    field.widget.attrs["maxlength"] = str(max_length)


def bound_passwords(form: forms.BaseForm, *names: str) -> None:
    for name in names:
        bound_length(form.fields[name], PASSWORD_MAX_LENGTH)


def clean_email_address(value: str) -> str:
    """Lower-cased for storage; lower-casing can lengthen some letters ("İ" → "i̇"), so the
    stored form is checked against the column again."""
    email = normalize_email_address(value)
    MaxLengthValidator(EMAIL_MAX_LENGTH)(email)  # Django's own (translated) message
    return email


class TelInput(forms.TextInput):
    # The input's own type: an extra "type" attribute would give the tag two of them.
    input_type = "tel"


class PhoneField(forms.CharField):
    """Accepts a phone in any common notation; cleans to the normalised form (see phone.py)."""

    widget = TelInput

    # What people type ("+7 (916) 123-45-67") is longer than what we store (12 characters).
    INPUT_MAX_LENGTH = 32

    def __init__(self, **kwargs: Any) -> None:
        kwargs["max_length"] = self.INPUT_MAX_LENGTH
        # A model form passes the model's (empty) help text; ours explains the format.
        kwargs["help_text"] = kwargs.get("help_text") or _("For example +7 916 123-45-67.")
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "autocomplete": "tel"}

    def to_python(self, value: Any) -> str | None:
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return normalize_phone(value)


# Russia's zones first, by city, in the merchant's language; then every other zone by name.
RUSSIAN_TIME_ZONES = [
    ("Europe/Kaliningrad", _("Kaliningrad")),
    ("Europe/Moscow", _("Moscow")),
    ("Europe/Samara", _("Samara")),
    ("Asia/Yekaterinburg", _("Yekaterinburg")),
    ("Asia/Omsk", _("Omsk")),
    ("Asia/Novosibirsk", _("Novosibirsk")),
    ("Asia/Krasnoyarsk", _("Krasnoyarsk")),
    ("Asia/Irkutsk", _("Irkutsk")),
    ("Asia/Yakutsk", _("Yakutsk")),
    ("Asia/Vladivostok", _("Vladivostok")),
    ("Asia/Magadan", _("Magadan")),
    ("Asia/Kamchatka", _("Kamchatka")),
]
_REGIONS = (
    "Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/",
    "Indian/", "Pacific/",
)


def _utc_offset(name: str) -> str:
    offset = datetime.now(zoneinfo.ZoneInfo(name)).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def time_zone_label(name: str) -> str:
    """"Moscow (UTC+03:00)" for Russia's zones (in the active language), else the zone's name."""
    city = dict(RUSSIAN_TIME_ZONES).get(name)
    return f"{city} ({_utc_offset(name)})" if city else name


def time_zone_choices() -> list[tuple[Any, Any]]:
    russian = [(name, format_lazy("{} ({})", city, _utc_offset(name))) for name, city in
               RUSSIAN_TIME_ZONES]
    taken = {name for name, _city in RUSSIAN_TIME_ZONES}
    others = sorted(
        name for name in zoneinfo.available_timezones()
        if name.startswith(_REGIONS) and name not in taken
    )
    return [
        (_("Russia"), russian),
        (_("Other time zones"), [("UTC", "UTC"), *((name, name) for name in others)]),
    ]


class RegisterForm(BaseUserCreationForm):
    """Sign-up: names, email, phone and a password checked by Django's validators."""

    class Meta:
        model = User
        fields = ("first_name", "last_name", "email", "phone")
        field_classes = {"phone": PhoneField}
        error_messages = UNIQUE_MESSAGES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name", "phone"):
            self.fields[name].required = True
        # The form starts with the names, not with the email Django would focus as the login.
        self.fields["email"].widget.attrs.pop("autofocus", None)
        self.fields["first_name"].widget.attrs["autofocus"] = True
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        bound_passwords(self, "password1", "password2")

    def clean_email(self) -> str:
        # Stored lower-cased, so lookups by address are case-insensitive too.
        return clean_email_address(self.cleaned_data["email"])

    def validate_unique(self) -> None:
        # An email or phone that already has an account is not a form error: the page would
        # tell anyone whether an address is registered. services.sign_up() handles it.
        exclude = self._get_validation_exclusions() | {"email", "phone"}
        try:
            self.instance.validate_unique(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)


class BoundedLoginMixin:
    """Login forms reject an over-long email or password before authenticate() sees them.

    Django's AuthenticationForm copies the model field's max_length onto ``username`` after
    building it, which sets the HTML attribute but adds no validator: a 300-character login
    reached authenticate() and django-axes, whose username column holds 255 (a 500 on MariaDB).
    The axes key is also cut in lockout.lockout_username, for logins that arrive other ways.
    """

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound_length(self.fields["username"], EMAIL_MAX_LENGTH)
        bound_length(self.fields["password"], PASSWORD_MAX_LENGTH)


class LoginForm(BoundedLoginMixin, AuthenticationForm):
    """Email + password. The field keeps Django's name ``username``, as axes and the admin do."""

    username = UsernameField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("Wrong email or password."),
        "inactive": _("This account has been deactivated."),
    }


class AdminLoginForm(BoundedLoginMixin, AdminAuthenticationForm):
    """The admin's login form with the same bounds (installed in admin.py)."""


class BoundedSetPasswordForm(SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound_passwords(self, "new_password1", "new_password2")


class BoundedPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound_passwords(self, "old_password", "new_password1", "new_password2")


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, answering every address alike, in time too.

    Django sends the email inside the request, and only for a known address, so the response
    time told whether an account exists. Here the request does the same work for any address
    (one lookup, one queued task); the task makes the link and sends it through our templates,
    throttled, in the recipient's language, from SITE_URL.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound_length(self.fields["email"], EMAIL_MAX_LENGTH)

    def save(self, *args: Any, **kwargs: Any) -> None:
        user = next(iter(self.get_users(self.cleaned_data["email"])), None)
        services.request_password_reset(user)


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)

    class Meta:
        model = User
        fields = ("first_name", "last_name", "phone", "time_zone", "language")
        field_classes = {"phone": PhoneField}
        error_messages = UNIQUE_MESSAGES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name"):
            self.fields[name].required = True
        # Accounts made before phones were asked for (or by Evotor's user/create) have none:
        # editing a name must not demand one. Once given, it cannot be removed.
        self.fields["phone"].required = bool(self.instance.phone)
        field = self.fields["time_zone"]
        current = self.instance.time_zone
        if current and all(current != value for _group, zones in field.choices
                           for value, _label in zones):
            # A zone an operator set that the list leaves out (e.g. Etc/GMT-3) stays selectable.
            field.choices = [*field.choices, (current, current)]


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        bound_passwords(self, "password")

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                _("Wrong password. Your account was not deleted."), code="password_incorrect"
            )
        return password
