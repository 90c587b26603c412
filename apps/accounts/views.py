"""Account pages. Thin: Django's auth views where they fit, forms and services for the rest."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import audit, services
from apps.accounts.forms import (
    BoundedPasswordChangeForm,
    BoundedSetPasswordForm,
    DeleteAccountForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
)
from apps.accounts.models import AuditEntry, User
from apps.accounts.tokens import ConfirmationTokenError


def _remember_language(response: HttpResponse, language: str) -> HttpResponse:
    """Keep the profile's language in the cookie, so pages after logout stay in it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


# A longer ``next`` is no page of ours, and a huge Location header breaks proxies.
NEXT_MAX_LENGTH = 2000


def is_safe_local_path(request: HttpRequest, target: str | None) -> bool:
    """``target`` is a path on this site ("/profile?tab=1"), never a host, scheme or bare word.

    url_has_allowed_host_and_scheme() also accepts relative references such as "abc"; redirect()
    would then try to reverse "abc" as a URL name (NoReverseMatch, a 500), and a browser would
    resolve it against the current page. Only absolute paths are followed.
    """
    return (
        isinstance(target, str)
        and 0 < len(target) <= NEXT_MAX_LENGTH
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    )


def _safe_next(request: HttpRequest, fallback: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if is_safe_local_path(request, target) else reverse(fallback)


class LocalNextMixin:
    """For Django's login/logout views: ``next`` must pass is_safe_local_path too."""

    request: HttpRequest

    def get_redirect_url(self) -> str:
        target = super().get_redirect_url()  # type: ignore[misc]
        return target if is_safe_local_path(self.request, target) else ""


# --- Sign-up and email confirmation -------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address as axes sees it (honours TRUSTED_PROXY_COUNT)."""
    return get_client_ip_address(request)


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Sign-up. Every valid submission ends on the same "check your inbox" page, whether an
    account was made or the email (or phone) already has one: see services.sign_up()."""
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not services.claim_signup(client_ip(request), form.cleaned_data["email"]):
            form.add_error(None, _("Too many sign-up attempts. Please try again in an hour."))
            return render(request, "accounts/register.html", {"form": form}, status=429)
        language = translation.get_language()
        services.sign_up(form, language if language in User.Language.values else "ru")
        return redirect("register_done")
    return render(request, "accounts/register.html", {"form": form})


@require_GET
def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html")


@require_GET
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        _user, newly_confirmed = services.confirm_email(token)
    except ConfirmationTokenError as error:
        context = {"expired": error.expired,
                   "valid_days": settings.EMAIL_CONFIRMATION_MAX_AGE.days}
        return render(request, "accounts/confirm_email_failed.html", context, status=400)
    if newly_confirmed:
        messages.success(request, _("Thank you! Your email address is confirmed."))
    else:
        messages.info(request, _("Your email address was already confirmed."))
    return redirect("home")


@login_required
@require_http_methods(["GET", "POST"])
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_email_confirmed:
        messages.info(request, _("Your email address was already confirmed."))
        return HttpResponseRedirect(_safe_next(request))
    if request.method == "GET":
        return render(request, "accounts/resend_confirmation.html")
    try:
        services.queue_confirmation_email(user)
    except services.SendThrottled as throttled:
        messages.warning(request, throttled.message)
    else:
        messages.success(request, _("We sent a new confirmation link to %(email)s.")
                         % {"email": user.email})
    return HttpResponseRedirect(_safe_next(request))


# --- Login and logout ---------------------------------------------------------------------------


class LoginView(LocalNextMixin, auth_views.LoginView):
    """Django's login (``next`` limited to our own host); axes counts the failures."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        return _remember_language(response, form.get_user().language)


class LogoutView(LocalNextMixin, auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have logged out."))
        return response


# --- Password reset -----------------------------------------------------------------------------


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = BoundedSetPasswordForm
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: object) -> HttpResponse:
        response = super().form_valid(form)
        services.finish_password_reset(self.user)
        # The path carries the reset token: the log names the page, not the link.
        audit.record("account.password_reset", subject=self.user, obj=self.user,
                     changes=PASSWORD_REPLACED, **audit.by_merchant(self.user, "/reset-password"))
        return response


# --- Profile ------------------------------------------------------------------------------------

PROFILE_FIELDS = ("first_name", "last_name", "phone", "time_zone", "language")
PASSWORD_REPLACED = audit.changes_between({"password": 1}, {"password": 2}, secret={"password"})
ACTIVITY_PER_PAGE = 25


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html")


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    # A fresh copy: a rejected form must not leave half-applied values on request.user.
    instance = get_user_model().objects.get(pk=request.user.pk)
    form = ProfileForm(request.POST or None, instance=instance)
    before = audit.snapshot(request.user, PROFILE_FIELDS)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        changes = audit.changes_between(before, audit.snapshot(user, PROFILE_FIELDS))
        if changes:
            audit.record_request(request, "account.profile_changed", subject=user, obj=user,
                                 changes=changes)
        with translation.override(user.language):
            messages.success(request, _("Your profile has been saved."))
        return _remember_language(redirect("profile"), user.language)
    return render(request, "accounts/profile_edit.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = BoundedPasswordChangeForm
    success_url = reverse_lazy("profile")

    def form_valid(self, form: object) -> HttpResponse:
        response = super().form_valid(form)
        audit.record_request(self.request, "account.password_changed", subject=self.request.user,
                             obj=self.request.user, changes=PASSWORD_REPLACED)
        messages.success(self.request, _("Your password has been changed."))
        return response


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = request.user.email
        services.delete_account(request.user)
        # After the deletion, so a failed one leaves no entry; the email says whose it was.
        audit.record("account.deleted", subject=None, subject_email=email,
                     **audit.by_merchant(None, request.path))
        logout(request)
        messages.success(request, _("Your account and all its data have been deleted."))
        return redirect("login")
    return render(request, "accounts/delete_account.html", {"form": form})


@login_required
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    """The merchant's own audit log: what changed in their account, by whom, newest first."""
    entries = AuditEntry.objects.filter(subject=request.user).select_related("actor")
    page = Paginator(entries, ACTIVITY_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"entry": entry, "action": audit.action_label(entry.action),
         "who": audit.who(entry, request.user), "changes": audit.describe(entry)}
        for entry in page
    ]
    return render(request, "accounts/activity.html", {"page": page, "rows": rows})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The footer switch: Django's set_language, plus the profile of a signed-in user."""
    language = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER)
    if request.user.is_authenticated and language in User.Language.values:
        request.user.language = language
        request.user.save(update_fields=["language", "updated_at"])
    return i18n.set_language(request)
