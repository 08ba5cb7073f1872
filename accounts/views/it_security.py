"""IT security: find an account, see its lock and MFA state, unlock it, reset its MFA."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import selectors
from ..forms import UserSearchForm
from ..models import User
from ..permissions import can_manage_security, can_reset_mfa, can_unlock
from ..services.lockout import account_unlock
from ..services.mfa import mfa_reset_for_user


def _require_security(request: HttpRequest) -> None:
    if not can_manage_security(request.user):
        raise PermissionDenied("Only IT security can manage account security.")


@login_required
def user_list_view(request: HttpRequest) -> HttpResponse:
    _require_security(request)
    form = UserSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    return render(
        request,
        "accounts/it_security_users.html",
        {"form": form, "users": selectors.users_for_security_review(query=query)},
    )


@login_required
@require_POST
def unlock_view(request: HttpRequest, user_id: int) -> HttpResponse:
    _require_security(request)
    target = get_object_or_404(User, pk=user_id)
    if not can_unlock(request.user, target):
        raise PermissionDenied("You cannot unlock this account.")
    account_unlock(actor=request.user, user=target)
    messages.success(request, f"{target.username} is unlocked.")
    return redirect("accounts:it_security_users")


@login_required
@require_POST
def mfa_reset_view(request: HttpRequest, user_id: int) -> HttpResponse:
    _require_security(request)
    target = get_object_or_404(User, pk=user_id)
    if not can_reset_mfa(request.user, target):
        raise PermissionDenied("You cannot reset MFA for this account.")
    removed = mfa_reset_for_user(actor=request.user, user=target)
    messages.success(
        request, f"MFA of {target.username} was reset ({removed} device(s) removed). They enrol again at next sign-in."
    )
    return redirect("accounts:it_security_users")
