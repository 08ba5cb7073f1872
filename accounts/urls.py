from django.contrib.auth import views as auth_views
from django.urls import path

import hospital.converters  # noqa: F401  (registers the "id" converter)

from .views import account, auth, it_security, notifications, security

app_name = "accounts"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("mfa/verify/", auth.mfa_verify_view, name="mfa_verify"),
    path("mfa/setup/", auth.mfa_setup_view, name="mfa_setup"),
    path("reauth/", security.reauth_view, name="reauth"),
    path("security/", security.security_view, name="security"),
    path("security/devices/add/", security.device_add_view, name="device_add"),
    path("security/devices/<id:device_id>/remove/", security.device_remove_view, name="device_remove"),
    path("security/backup-codes/", security.backup_codes_view, name="backup_codes"),
    path("sessions/", security.sessions_view, name="sessions"),
    path("sessions/<id:session_id>/revoke/", security.session_revoke_view, name="session_revoke"),
    path("sessions/revoke-all/", security.sessions_revoke_all_view, name="sessions_revoke_all"),
    path("", account.dashboard_view, name="dashboard"),
    path("profile/", account.profile_view, name="profile"),
    path("register/", account.register_view, name="register"),
    path("register/done/", account.register_done_view, name="register_done"),
    path("verify-email/<str:uidb64>/<str:token>/", account.verify_email_view, name="verify_email"),
    path("password/change/", account.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("password/reset/<uidb64>/<token>/", account.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("notifications/", notifications.notifications_view, name="notifications"),
    path("notifications/<id:notification_id>/read/", notifications.notification_read_view, name="notification_read"),
    path("notifications/read-all/", notifications.notifications_read_all_view, name="notifications_read_all"),
    path("it-security/users/", it_security.user_list_view, name="it_security_users"),
    path("it-security/users/<id:user_id>/unlock/", it_security.unlock_view, name="it_security_unlock"),
    path("it-security/users/<id:user_id>/reset-mfa/", it_security.mfa_reset_view, name="it_security_mfa_reset"),
]
