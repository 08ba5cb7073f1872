"""Report pages, CSV export and API: filters, sorting, keyset pages, access and query counts."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from audit.selectors import AuditFilters, audit_events_page


def fake_events(n: int, *, start_seq: int = 1_000_000, patient_every: int = 7, base=None) -> None:
    """Rows for reading tests only: written in bulk, outside the chain."""
    base = base or timezone.now() - timedelta(days=30)
    rows = [
        AuditEvent(
            seq=start_seq + i,
            occurred_at=base + timedelta(seconds=i),
            actor_id=None,
            actor_name=f"user{i % 13}",
            actor_role="doctor",
            patient_id=(i % patient_every) + 1,
            action=["view", "update", "export"][i % 3],
            object_label=f"record {i}",
            category=["diagnosis", "prescription"][i % 2],
            outcome="denied" if i % 10 == 0 else "success",
            prev_hash="0" * 64,
            hash=f"{start_seq + i:064x}",
        )
        for i in range(n)
    ]
    AuditEvent.objects.bulk_create(rows, batch_size=2000)


@pytest.fixture
def officer_client(make_user, mfa_login):
    officer = make_user(Role.PRIVACY_OFFICER, username="privacy.po")
    return mfa_login(officer, Client())


@pytest.mark.django_db
class TestKeysetPages:
    @pytest.mark.parametrize("sort", ["-occurred_at", "occurred_at", "actor_name", "-patient_id", "action", "-outcome"])
    def test_walking_pages_forward_then_back_visits_every_row_once(self, sort):
        fake_events(53)
        filters = AuditFilters(category="diagnosis")
        expected = AuditEvent.objects.filter(category="diagnosis").count()
        seen, cursor, pages = [], None, []
        while True:
            page = audit_events_page(filters=filters, sort=sort, cursor=cursor, size=5)
            pages.append([e.pk for e in page.rows])
            seen += [e.pk for e in page.rows]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == expected
        # And back again with the previous links.
        back = audit_events_page(filters=filters, sort=sort, cursor=cursor, size=5)
        for previous in reversed(pages[:-1]):
            back = audit_events_page(filters=filters, sort=sort, cursor=back.prev_cursor, size=5)
            assert [e.pk for e in back.rows] == previous
        assert back.prev_cursor is None

    def test_a_forged_cursor_falls_back_to_the_first_page_with_a_note(self):
        fake_events(5)
        page = audit_events_page(filters=AuditFilters(), cursor="not-a-cursor!!")
        assert page.notes and len(page.rows) == 5


@pytest.mark.django_db
class TestReportPage:
    def test_filters_narrow_the_rows(self, officer_client):
        fake_events(40)
        r = officer_client.get(reverse("audit:report"), {"patient": 3, "action": "view", "category": "diagnosis"})
        assert r.status_code == 200
        rows = r.context["page"].rows
        assert rows and all((e.patient_id, e.action, e.category) == (3, "view", "diagnosis") for e in rows)
        r = officer_client.get(reverse("audit:report"), {"outcome": "denied", "user": "user0"})
        assert all(e.outcome == "denied" and e.actor_name == "user0" for e in r.context["page"].rows)

    def test_time_range_filter(self, officer_client):
        base = timezone.now() - timedelta(days=2)
        fake_events(10, base=base)
        start = (base + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
        end = (base + timedelta(seconds=6)).strftime("%Y-%m-%dT%H:%M:%S")
        r = officer_client.get(reverse("audit:report"), {"start": start, "end": end})
        labels = sorted(e.object_label for e in r.context["page"].rows)
        assert labels == ["record 3", "record 4", "record 5"]

    def test_bad_filter_input_gets_messages_not_a_crash(self, officer_client):
        r = officer_client.get(reverse("audit:report"), {"start": "yesterday", "patient": "-4", "action": "hack"})
        assert r.status_code == 200
        body = r.content.decode()
        assert "Enter a valid date/time" in body and "Select a valid choice" in body
        r = officer_client.get(
            reverse("audit:report"), {"start": "2026-01-02T00:00", "end": "2026-01-01T00:00", "sort": "password"}
        )
        assert "must be after" in r.content.decode()

    def test_sort_links_and_pager(self, officer_client):
        fake_events(120)
        r = officer_client.get(reverse("audit:report"), {"sort": "actor_name"})
        names = [e.actor_name for e in r.context["page"].rows]
        assert names == sorted(names)
        assert r.context["next_url"]
        r2 = officer_client.get(reverse("audit:report") + r.context["next_url"])
        assert r2.status_code == 200 and r2.context["prev_url"]
        assert not {e.pk for e in r.context["page"].rows} & {e.pk for e in r2.context["page"].rows}

    def test_patient_timeline_and_user_activity(self, officer_client, doctor):
        fake_events(30)
        r = officer_client.get(reverse("audit:patient_timeline", args=[2]))
        assert r.status_code == 200 and {e.patient_id for e in r.context["page"].rows} == {2}
        r = officer_client.get(reverse("audit:user_activity", args=[doctor.pk]))
        assert r.status_code == 200 and all(e.actor_id == doctor.pk for e in r.context["page"].rows)

    def test_viewing_the_report_is_itself_audited(self, officer_client):
        officer_client.get(reverse("audit:report"), {"patient": 5})
        row = AuditEvent.objects.get(action="query", object_label="audit report")
        assert row.patient_id == 5 and row.actor_name == "privacy.po"

    @pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.PATIENT, Role.HOSPITAL_ADMIN])
    def test_other_roles_are_refused(self, make_user, mfa_login, role):
        c = mfa_login(make_user(role, username=f"r.{role}".replace("_", "-")), Client())
        for url in [
            reverse("audit:report"),
            reverse("audit:export"),
            reverse("audit:patient_timeline", args=[1]),
            reverse("api:audit-events"),
        ]:
            assert c.get(url).status_code == 403, url

    @pytest.mark.parametrize("role", [Role.PRIVACY_OFFICER, Role.AUDITOR, Role.SYSTEM_ADMIN])
    def test_permitted_roles(self, make_user, mfa_login, role):
        c = mfa_login(make_user(role, username=f"p.{role}".replace("_", "-")), Client())
        assert c.get(reverse("audit:report")).status_code == 200
        assert c.get(reverse("api:audit-events")).status_code == 200

    def test_report_query_count_is_the_same_for_10_and_10000_rows(self, officer_client):
        def queries_for(url, params) -> int:
            officer_client.get(url, params)  # warm caches (content types, session touch)
            with CaptureQueriesContext(connection) as ctx:
                r = officer_client.get(url, params)
            assert r.status_code == 200 and len(r.context["page"].rows) > 0
            return len(ctx.captured_queries)

        fake_events(10, start_seq=10_000_000)
        small = [
            queries_for(reverse("audit:report"), {}),
            queries_for(reverse("audit:report"), {"patient": 3, "sort": "actor_name"}),
        ]
        fake_events(10_000, start_seq=20_000_000)
        large = [
            queries_for(reverse("audit:report"), {}),
            queries_for(reverse("audit:report"), {"patient": 3, "sort": "actor_name"}),
        ]
        assert small == large


@pytest.mark.django_db
class TestExport:
    def test_csv_streams_rows_and_the_export_is_audited(self, officer_client):
        fake_events(25)
        r = officer_client.get(reverse("audit:export"), {"category": "prescription"})
        assert r.status_code == 200 and r.streaming
        assert r["Content-Type"].startswith("text/csv") and "attachment" in r["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode())))
        header, body = rows[0], rows[1:]
        assert header[0] == "seq" and len(body) == 12
        assert {row[header.index("category")] for row in body} == {"prescription"}
        export = AuditEvent.objects.get(action="export", object_label="audit trail CSV export")
        assert export.actor_name == "privacy.po" and "category=prescription" in export.reason

    def test_csv_cells_cannot_start_a_formula(self, officer_client):
        from audit.services import audit_event_record

        audit_event_record(action="view", category="security", object_label='=HYPERLINK("http://x")')
        r = officer_client.get(reverse("audit:export"))
        text = b"".join(r.streaming_content).decode()
        assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text

    def test_auditor_without_export_permission_is_refused(self, make_user, mfa_login):
        it = make_user(Role.IT_SECURITY, username="it.viewer")
        c = mfa_login(it, Client())
        assert c.get(reverse("audit:report")).status_code == 200
        assert c.get(reverse("audit:export")).status_code == 403


@pytest.mark.django_db
class TestApi:
    def test_same_filters_and_keyset_pages(self, officer_client):
        fake_events(60)
        r = officer_client.get(reverse("api:audit-events"), {"patient": 4, "page_size": 3, "sort": "-occurred_at"})
        assert r.status_code == 200
        body = r.json()
        assert len(body["results"]) == 3 and body["previous"] is None and body["next"]
        assert {e["patient_id"] for e in body["results"]} == {4}
        second = officer_client.get(body["next"]).json()
        assert second["previous"] and not {e["seq"] for e in second["results"]} & {e["seq"] for e in body["results"]}

    def test_bad_parameters_get_400_with_messages(self, officer_client):
        r = officer_client.get(reverse("api:audit-events"), {"action": "nope", "page_size": "many"})
        assert r.status_code == 400
        r = officer_client.get(reverse("api:audit-events"), {"page_size": 100000})
        assert r.status_code == 400 and "page_size" in r.json()
        r = officer_client.get(reverse("api:audit-events"), {"cursor": "garbage"})
        assert r.status_code == 400 and "cursor" in r.json()
