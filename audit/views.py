"""Audit reports for privacy officers and auditors: filter, sort, page, export."""

import csv

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from .forms import AuditFilterForm
from .models import Action, Category
from .permissions import can_export_audit, can_view_audit
from .selectors import audit_events_for_export, audit_events_page, parse_sort
from .services import audit_event_record

PAGE_SIZE = 50
COLUMNS = [
    ("occurred_at", "When"),
    ("actor_name", "User"),
    ("actor_role", "Role"),
    ("action", "Action"),
    ("category", "Category"),
    ("patient_id", "Patient"),
    ("object_label", "Object"),
    ("outcome", "Outcome"),
    ("ip_address", "IP"),
]


def _require(request: HttpRequest, allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("Only privacy officers, auditors and administrators can read the audit trail.")


def _report(request: HttpRequest, *, title: str, patient_id=None, actor=None) -> HttpResponse:
    _require(request, can_view_audit(request.user))
    form = AuditFilterForm(request.GET or None)
    page = None
    if form.is_bound and not form.is_valid():
        rows_context = {}
    else:
        if not form.is_bound:
            form = AuditFilterForm({})
            form.is_valid()
        filters = form.to_filters(patient_id=patient_id, actor_id=actor.pk if actor else None)
        sort = parse_sort(request.GET.get("sort"))
        page = audit_events_page(filters=filters, sort=sort, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
        audit_event_record(
            action=Action.QUERY,
            category=Category.SECURITY,
            patient_id=filters.patient_id,
            object_label="audit report",
            reason=filters.describe(),
        )
        rows_context = {"page": page}
    base = {k: v for k, v in request.GET.items() if k not in ("cursor", "sort") and v}
    sort = page.sort if page else parse_sort(request.GET.get("sort"))

    def link(**extra) -> str:
        return "?" + urlencode({**base, "sort": sort, **extra})

    columns = []
    for key, label in COLUMNS:
        current = sort.lstrip("-") == key
        new_sort = key if (current and sort.startswith("-")) else f"-{key}"
        columns.append(
            {
                "label": label,
                "url": "?" + urlencode({**base, "sort": new_sort}),
                "current": current,
                "desc": sort.startswith("-"),
            }
        )
    context = {
        "title": title,
        "form": form,
        "columns": columns,
        "next_url": link(cursor=page.next_cursor) if page and page.next_cursor else "",
        "prev_url": link(cursor=page.prev_cursor) if page and page.prev_cursor else "",
        "first_url": link() if page and page.prev_cursor else "",
        "export_url": (reverse("audit:export") + "?" + urlencode({**base, "sort": sort}))
        if can_export_audit(request.user) and patient_id is None and actor is None
        else "",
        "patient_id": patient_id,
        "subject_user": actor,
        **rows_context,
    }
    return render(request, "audit/report.html", context)


@login_required
def report_view(request: HttpRequest) -> HttpResponse:
    return _report(request, title="Audit trail")


@login_required
def patient_timeline_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _report(request, title=f"Who accessed patient #{patient_id}", patient_id=patient_id)


@login_required
def user_activity_view(request: HttpRequest, user_id: int) -> HttpResponse:
    _require(request, can_view_audit(request.user))
    subject = get_object_or_404(get_user_model(), pk=user_id)
    return _report(request, title=f"Activity of {subject.get_username()}", actor=subject)


class _Echo:
    def write(self, value):
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell must never start a formula.
    return "'" + text if text.startswith(_FORMULA_START) else text


EXPORT_FIELDS = [
    "seq",
    "occurred_at",
    "activity_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "patient_id",
    "action",
    "category",
    "object_type",
    "object_id",
    "object_label",
    "changes",
    "ip_address",
    "user_agent",
    "request_id",
    "reason",
    "outcome",
    "hash",
]


def _row(event) -> list[str]:
    values = {name: getattr(event, name, None) for name in EXPORT_FIELDS}
    values["object_type"] = event.content_type.model if event.content_type_id else ""
    values["changes"] = event.changes or ""
    return [_cell(values[name]) for name in EXPORT_FIELDS]


@login_required
def export_view(request: HttpRequest) -> HttpResponse:
    _require(request, can_export_audit(request.user))
    form = AuditFilterForm(request.GET or {})
    if not form.is_valid():
        return render(request, "audit/report.html", {"title": "Audit trail", "form": form, "columns": []}, status=400)
    filters = form.to_filters()
    sort = parse_sort(request.GET.get("sort"))
    # The export is itself audited, before the first row leaves.
    audit_event_record(
        action=Action.EXPORT,
        category=Category.SECURITY,
        patient_id=filters.patient_id,
        object_label="audit trail CSV export",
        reason=filters.describe(),
    )
    writer = csv.writer(_Echo())
    rows = audit_events_for_export(filters=filters, sort=sort)

    def stream():
        yield writer.writerow(EXPORT_FIELDS)
        for event in rows:
            yield writer.writerow(_row(event))

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
