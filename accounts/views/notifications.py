"""The user's own notification inbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .. import selectors
from ..services.notifications import notification_mark_read, notifications_mark_all_read

PAGE_SIZE = 50


@login_required
def notifications_view(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.notifications_for(user=request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read_view(request: HttpRequest, notification_id: int) -> HttpResponse:
    if notification_mark_read(user=request.user, notification_id=notification_id) is None:
        raise Http404("No such notification.")
    return redirect("accounts:notifications")


@login_required
@require_POST
def notifications_read_all_view(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'' if count == 1 else 's'} read.")
    return redirect("accounts:notifications")
