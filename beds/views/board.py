"""The availability board (staff and public), the dashboard and alerts."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import selectors
from ..forms import AlertForm, BoardFilterForm
from ..models import BedKind
from ..permissions import can_broadcast_alert, can_view_board
from ..services.alerts import AlertError, alert_broadcast, alert_resolve


def _filters(request: HttpRequest) -> tuple[BoardFilterForm, str, str]:
    form = BoardFilterForm(request.GET or None, regions=selectors.regions())
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["region"], form.cleaned_data["kind"]
    return form, "", ""


@login_required
def board_view(request: HttpRequest) -> HttpResponse:
    if not can_view_board(request.user):
        raise PermissionDenied("The bed board is for hospital staff.")
    form, region, kind = _filters(request)
    return render(
        request,
        "beds/board.html",
        {
            "form": form,
            "board": selectors.availability_board_cached(region=region, kind=kind),
            "kinds": BedKind.choices,
            "alerts": selectors.open_alerts(),
            "live_path": "/ws/board/",
            "can_broadcast": can_broadcast_alert(request.user),
            "public": False,
        },
    )


def public_board_view(request: HttpRequest) -> HttpResponse:
    """Counts only, for the public and partner services: no patients, no alerts, no links."""
    form, region, kind = _filters(request)
    return render(
        request,
        "beds/board.html",
        {
            "form": form,
            "board": selectors.availability_board_cached(region=region, kind=kind),
            "kinds": BedKind.choices,
            "alerts": [],
            "live_path": "/ws/public-board/",
            "public": True,
        },
    )


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not can_view_board(request.user):
        raise PermissionDenied("The dashboard is for hospital staff.")
    data = selectors.dashboard()
    chart = {
        "labels": [d["day"] for d in data["days"]],
        "admissions": [d["admissions"] for d in data["days"]],
        "kinds": [BedKind(k).label for k in data["per_kind"]],
        "utilisation": [v["utilisation"] for v in data["per_kind"].values()],
    }
    return render(request, "beds/dashboard.html", {**data, "chart": chart, "kind_labels": dict(BedKind.choices)})


@login_required
def occupancy_csv_view(request: HttpRequest) -> HttpResponse:
    if not can_view_board(request.user):
        raise PermissionDenied("The occupancy export is for hospital staff.")
    board = selectors.availability_board()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="occupancy-{timezone.now():%Y%m%dT%H%MZ}.csv"'
    writer = csv.writer(response)
    writer.writerow(["hospital_code", "hospital", "region", "kind", "free", "total"])
    for entry in board:
        for kind, counts in entry["kinds"].items():
            if counts["total"]:
                writer.writerow([entry["code"], entry["name"], entry["region"], kind, counts["free"], counts["total"]])
    return response


@login_required
def alert_view(request: HttpRequest) -> HttpResponse:
    if not can_broadcast_alert(request.user):
        raise PermissionDenied("Only emergency coordinators can broadcast alerts.")
    form = AlertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alert_broadcast(actor=request.user, **form.cleaned_data)
        except AlertError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The alert is on every board.")
            return redirect("beds:board")
    return render(request, "beds/alert.html", {"form": form, "alerts": selectors.open_alerts()})


@login_required
@require_POST
def alert_resolve_view(request: HttpRequest, alert_id: int) -> HttpResponse:
    if not can_broadcast_alert(request.user):
        raise PermissionDenied("Only emergency coordinators can resolve alerts.")
    try:
        alert_resolve(actor=request.user, alert_id=alert_id)
    except AlertError as exc:
        messages.error(request, str(exc))
    return redirect("beds:alerts")
