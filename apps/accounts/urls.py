from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from apps.accounts import views
from apps.accounts.forms import PasswordResetRequestForm

urlpatterns = [
    path("register", views.register, name="register"),
    path("register/sent", views.register_done, name="register_done"),
    path("confirm-email/<str:token>", views.confirm_email, name="confirm_email"),
    path("resend-confirm", views.resend_confirmation, name="resend_confirmation"),
    path("login", views.LoginView.as_view(), name="login"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path(
        "forgot-password",
        auth_views.PasswordResetView.as_view(
            form_class=PasswordResetRequestForm,
            template_name="accounts/password_reset_form.html",
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "forgot-password/sent",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset-password/<uidb64>/<token>",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset-password/done",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("profile", views.profile, name="profile"),
    path("profile/edit", views.profile_edit, name="profile_edit"),
    path("profile/password", views.PasswordChangeView.as_view(), name="password_change"),
    path("profile/delete", views.delete_account, name="delete_account"),
    path("profile/activity", views.activity, name="activity"),
]
