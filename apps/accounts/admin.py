from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import audit, services
from apps.accounts.forms import UNIQUE_MESSAGES, AdminLoginForm, PhoneField, clean_email_address
from apps.accounts.models import AuditEntry, User

# /admin/login/ bounds the login like /login does (see forms.BoundedLoginMixin).
admin.site.login_form = AdminLoginForm
# The operators read Russian: «EvoSync — администрирование» once locale/ has it.
admin.site.site_header = _("EvoSync administration")
admin.site.site_title = _("EvoSync administration")
admin.site.index_title = _("Administration")

# What an operator may change on an account, as the audit log records it.
AUDITED_USER_FIELDS = (
    "email", "first_name", "last_name", "phone", "time_zone", "language", "is_active",
    "is_email_confirmed", "is_staff", "is_superuser",
)


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

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        before = {}
        if change:
            before = audit.snapshot(User.objects.get(pk=obj.pk), AUDITED_USER_FIELDS)
        super().save_model(request, obj, form, change)
        changes = audit.changes_between(before, audit.snapshot(obj, AUDITED_USER_FIELDS))
        if not change and obj.has_usable_password():
            changes += audit.changes_between({}, {"password": 1}, secret={"password"})
        if changes:
            action = "account.changed" if change else "account.created"
            audit.record_request(request, action, subject=obj, obj=obj, changes=changes)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.filter(pk=id).first() if str(id).isdigit() else None
            if user is not None:
                changes = audit.changes_between(
                    {"password": 1}, {"password": 2 if user.has_usable_password() else ""},
                    secret={"password"})
                audit.record_request(request, "account.password_changed", subject=user,
                                     obj=user, changes=changes)
        return response

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
        targets = list(queryset.exclude(pk=request.user.pk).filter(is_active=True))
        count = services.deactivate_users(queryset.exclude(pk=request.user.pk))
        for user in targets:
            audit.record_request(request, "account.deactivated", subject=user, obj=user,
                                 changes=[{"field": "is_active", "old": True, "new": False}])
        self.message_user(request, ngettext(
            "%(count)d user deactivated.", "%(count)d users deactivated.", count)
            % {"count": count}, messages.SUCCESS)
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, _("You cannot deactivate your own account."),
                              messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        email = obj.email
        services.delete_account(obj)
        audit.record("account.deleted", subject=None, subject_email=email,
                     **audit.from_request(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # One by one, so that every account's cleanup receivers run.
        for user in queryset:
            self.delete_model(request, user)


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(code, label) for code, label in audit.ACTION_LABELS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is evidence, so nobody edits or deletes it here (prune_logs does)."""

    list_display = ["created_at", "merchant", "action_name", "object_repr", "change_summary",
                    "actor", "actor_kind", "source"]
    list_filter = [ActionFilter, "actor_kind", "source", "created_at"]
    search_fields = ["subject_email", "actor__email", "object_repr"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["created_at", "subject", "subject_email", "action_name", "object_type", "object_id",
              "object_repr", "change_summary", "actor", "actor_kind", "source", "path"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("merchant"), ordering="subject_email")
    def merchant(self, entry: AuditEntry) -> str:
        return entry.subject_email or "—"

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, entry: AuditEntry) -> str:
        return audit.action_label(entry.action)

    @admin.display(description=_("changes"))
    def change_summary(self, entry: AuditEntry) -> str:
        lines = [
            (change.label, change.secret_event or f"{change.old} → {change.new}")
            for change in audit.describe(entry)
        ]
        return format_html_join("", "<div>{}: {}</div>", lines) or "—"
