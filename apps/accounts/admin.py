from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import services
from apps.accounts.forms import UNIQUE_MESSAGES, AdminLoginForm, PhoneField, clean_email_address
from apps.accounts.models import User

# /admin/login/ bounds the login like /login does (see forms.BoundedLoginMixin).
admin.site.login_form = AdminLoginForm


class AdminUserAddForm(AdminUserCreationForm):
    """Operators create accounts that can log in at once: active and confirmed by default."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "phone", "is_email_confirmed", "is_active")
        field_classes = {"phone": PhoneField}
        error_messages = UNIQUE_MESSAGES

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["is_email_confirmed"].initial = True
        self.fields["phone"].required = False

    def clean_email(self) -> str:
        return clean_email_address(self.cleaned_data["email"])


class AdminUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"phone": PhoneField}
        error_messages = UNIQUE_MESSAGES

    def clean_email(self) -> str:
        return clean_email_address(self.cleaned_data["email"])


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserAddForm
    list_display = (
        "email", "first_name", "last_name", "phone", "is_email_confirmed", "is_active",
        "is_staff", "date_joined", "last_login",
    )
    list_filter = ("is_active", "is_email_confirmed", "is_staff", "is_superuser", "language")
    search_fields = ("email", "first_name", "last_name", "phone")
    ordering = ("-date_joined",)
    date_hierarchy = "date_joined"
    readonly_fields = ("last_login", "date_joined", "updated_at")
    filter_horizontal = ("groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "phone", "time_zone",
                                          "language")}),
        (_("Status"), {"fields": ("is_active", "is_email_confirmed")}),
        (_("Permissions"), {
            "classes": ("collapse",),
            "fields": ("is_staff", "is_superuser", "groups", "user_permissions"),
        }),
        (_("Dates"), {"fields": ("date_joined", "last_login", "updated_at")}),
    )
    add_fieldsets = (
        (None, {
            "classes": ("wide",),
            "fields": (
                "email", "first_name", "last_name", "phone", "usable_password", "password1",
                "password2", "is_email_confirmed", "is_active",
            ),
        }),
    )
    actions = ("resend_confirmation", "deactivate")

    @admin.action(description=_("Resend the confirmation email"))
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        sent = skipped = 0
        for user in queryset.filter(is_email_confirmed=False, is_active=True):
            try:
                services.send_confirmation_email(user)
            except (services.SendThrottled, *services.MAIL_ERRORS):
                skipped += 1
            else:
                sent += 1
        already = queryset.count() - sent - skipped
        self.message_user(request, ngettext(
            "Confirmation email sent to %(count)d user.",
            "Confirmation email sent to %(count)d users.", sent) % {"count": sent},
            messages.SUCCESS if sent else messages.INFO)
        if skipped:
            self.message_user(request, ngettext(
                "%(count)d email not sent: sent too recently or the mail server failed.",
                "%(count)d emails not sent: sent too recently or the mail server failed.",
                skipped) % {"count": skipped}, messages.WARNING)
        if already:
            self.message_user(request, ngettext(
                "%(count)d user skipped: already confirmed or inactive.",
                "%(count)d users skipped: already confirmed or inactive.",
                already) % {"count": already}, messages.INFO)

    @admin.action(description=_("Deactivate (block logins)"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # Locking oneself out of the admin by accident helps nobody.
        count = services.deactivate_users(queryset.exclude(pk=request.user.pk))
        self.message_user(request, ngettext(
            "%(count)d user deactivated.", "%(count)d users deactivated.", count)
            % {"count": count}, messages.SUCCESS)
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, _("You cannot deactivate your own account."),
                              messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.delete_account(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # One by one, so that every account's cleanup receivers run.
        for user in queryset:
            services.delete_account(user)
