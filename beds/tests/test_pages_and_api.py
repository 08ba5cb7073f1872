"""Board, hospital view, dashboard, alerts and the REST API: access, flows and query counts."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from beds.models import Admission, Availability, Bed, EmergencyAlert
from beds.services import admission_book
from beds.services.availability import availability_refresh
from tests.factories import BedFactory, HospitalFactory, PatientFactory, WardFactory


@pytest.fixture
def hospital(db):
    h = HospitalFactory(code="CGH", name="Central General", region="North")
    ward = WardFactory(hospital=h, name="ICU")
    for i in range(4):
        BedFactory(ward=ward, label=f"I{i}", kind="icu")
    BedFactory(ward=WardFactory(hospital=h, name="General"), label="G1", kind="general")
    availability_refresh(hospital_id=h.pk)
    return h


@pytest.fixture
def nurse(make_user, hospital, mfa_login):
    user = make_user(Role.NURSE, username="nurse.n", hospital=hospital)
    return user, mfa_login(user, Client())


@pytest.fixture
def outsider(make_user, mfa_login):
    user = make_user(Role.NURSE, username="nurse.elsewhere", hospital=HospitalFactory(code="OTH"))
    return user, mfa_login(user, Client())


@pytest.mark.django_db
class TestBoard:
    def test_board_shows_free_over_total_per_kind_and_no_patient_data(
        self, nurse, hospital, django_capture_on_commit_callbacks
    ):
        user, c = nurse
        patient = PatientFactory(name="Ada Lovelace")
        with django_capture_on_commit_callbacks(execute=True):
            admission_book(actor=user, patient=patient, kind="icu", hospital=hospital)
        r = c.get(reverse("beds:board"))
        assert r.status_code == 200
        html = r.content.decode()
        assert 'data-kind="icu"' in html and "3 / 4" in html
        assert "Lovelace" not in html and patient.mrn not in html

    def test_public_board_needs_no_sign_in_and_shows_counts_only(self, client, hospital):
        r = client.get(reverse("beds:public_board"))
        assert r.status_code == 200 and b"4 / 4" in r.content
        assert reverse("beds:hospital", args=[hospital.pk]).encode() not in r.content

    def test_patients_cannot_see_the_staff_board(self, make_user, password):
        c = Client()
        patient_user = make_user(Role.PATIENT, username="pat.board")
        c.post(reverse("accounts:login"), {"username": patient_user.username, "password": password})
        assert c.get(reverse("beds:board")).status_code == 403

    def test_board_filters(self, nurse, hospital):
        other = HospitalFactory(code="SOU", region="South")
        BedFactory(ward=WardFactory(hospital=other), kind="general")
        availability_refresh(hospital_id=other.pk)
        _, c = nurse
        r = c.get(reverse("beds:board"), {"region": "South"})
        assert [e["code"] for e in r.context["board"]] == ["SOU"]
        r = c.get(reverse("beds:board"), {"kind": "icu"})
        assert [e["code"] for e in r.context["board"]] == ["CGH"]

    def test_board_and_api_query_counts_are_the_same_for_10_and_1000_hospitals(self, nurse):
        from accounts.models import Hospital

        _, c = nurse

        def counts() -> list[int]:
            result = []
            for url in (reverse("beds:board"), reverse("api:availability")):
                c.get(url)
                with CaptureQueriesContext(connection) as ctx:
                    assert c.get(url).status_code == 200
                result.append(len(ctx.captured_queries))
            return result

        def add(n: int, start: int) -> None:
            # The board reads only the Availability aggregate; build it directly for speed.
            hospitals = Hospital.objects.bulk_create(
                [Hospital(code=f"Q{start + i:05d}", name=f"Q {start + i}", region="R") for i in range(n)]
            )
            Availability.objects.bulk_create(
                [Availability(hospital=h, kind=k, free=10, total=50) for h in hospitals for k in ("icu", "general")]
            )

        add(9, 0)
        small = counts()
        add(990, 100)
        large = counts()
        assert small == large
        assert large[1] <= 5, "the availability API costs at most 5 queries"


@pytest.mark.django_db
class TestHospitalPage:
    def test_book_through_the_page_registering_a_new_patient(self, nurse, hospital, django_capture_on_commit_callbacks):
        _, c = nurse
        with django_capture_on_commit_callbacks(execute=True):
            r = c.post(
                reverse("beds:book", args=[hospital.pk]),
                {
                    "action": "book",
                    "patient_mrn": "new-001",
                    "new_patient_name": "Grace Hopper",
                    "new_patient_dob": "1950-12-09",
                    "kind": "icu",
                    "priority": "emergency",
                    "reason": "resp failure",
                },
            )
        assert r.status_code == 302
        admission = Admission.objects.get()
        assert admission.patient.mrn == "NEW-001" and admission.bed.kind == "icu"
        assert Availability.objects.get(hospital=hospital, kind="icu").free == 3
        page = c.get(reverse("beds:hospital", args=[hospital.pk]))
        assert b"Grace" not in page.content and f"admission {admission.pk}".encode() in page.content

    def test_booking_errors_are_shown_not_raised(self, nurse, hospital):
        _, c = nurse
        r = c.post(
            reverse("beds:book", args=[hospital.pk]),
            {"action": "book", "patient_mrn": "nobody", "kind": "icu", "priority": "urgent"},
        )
        assert r.status_code == 400 and b"No patient has this medical record number" in r.content
        r = c.post(reverse("beds:book", args=[hospital.pk]), {"action": "book", "patient_mrn": "", "kind": "suite"})
        assert r.status_code == 400 and b"Select a valid choice" in r.content
        assert not Admission.objects.exists()

    def test_nurse_of_another_hospital_can_look_but_not_act(self, outsider, hospital):
        _, c = outsider
        assert c.get(reverse("beds:hospital", args=[hospital.pk])).status_code == 200
        assert c.get(reverse("beds:book", args=[hospital.pk])).status_code == 403
        bed = Bed.objects.filter(hospital=hospital).first()
        assert c.post(reverse("beds:bed_status", args=[bed.pk]), {"status": "cleaning"}).status_code == 403

    def test_discharge_and_housekeeping_from_the_grid(self, nurse, hospital):
        user, c = nurse
        admission = admission_book(actor=user, patient=PatientFactory(), kind="icu", hospital=hospital)
        r = c.post(reverse("beds:admission_action", args=[admission.pk, "discharge"]))
        assert r.status_code == 302
        assert Bed.objects.get(pk=admission.bed_id).status == "cleaning"
        c.post(reverse("beds:bed_status", args=[admission.bed_id]), {"status": "available"})
        assert Bed.objects.get(pk=admission.bed_id).status == "available"

    def test_only_the_hospitals_admin_may_close_beds(self, nurse, hospital, make_user, mfa_login):
        _, c = nurse
        bed = Bed.objects.filter(hospital=hospital, kind="general").get()
        assert c.post(reverse("beds:bed_status", args=[bed.pk]), {"status": "closed"}).status_code == 403
        admin = make_user(Role.HOSPITAL_ADMIN, username="h.admin", hospital=hospital)
        ac = mfa_login(admin, Client())
        assert ac.post(reverse("beds:bed_status", args=[bed.pk]), {"status": "closed"}).status_code == 302
        assert Bed.objects.get(pk=bed.pk).status == "closed"
        ac.post(reverse("beds:ward_create", args=[hospital.pk]), {"name": "Maternity"})
        ward = hospital.wards.get(name="Maternity")
        ac.post(reverse("beds:bed_create", args=[hospital.pk]), {"ward": ward.pk, "label": "M1", "kind": "general"})
        assert Bed.objects.filter(ward=ward, label="M1").exists()


@pytest.mark.django_db
class TestAlerts:
    def test_coordinator_broadcasts_and_nurse_cannot(self, nurse, make_user, mfa_login, hospital):
        _, nc = nurse
        assert nc.get(reverse("beds:alerts")).status_code == 403
        coord = mfa_login(make_user(Role.EMERGENCY_COORDINATOR, username="coord.a"), Client())
        r = coord.post(
            reverse("beds:alerts"), {"message": "Major incident: M4 pile-up", "scope": "region", "region": "North"}
        )
        assert r.status_code == 302
        assert b"Major incident" in nc.get(reverse("beds:board")).content
        r = coord.post(reverse("beds:alerts"), {"message": "x", "scope": "region", "region": ""})
        assert r.status_code == 200 and b"Choose the region" in r.content

    def test_high_icu_occupancy_raises_one_automatic_alert(self, nurse, hospital, settings):
        settings.BED_ALERT_THRESHOLD = 0.75
        user, _ = nurse
        for _ in range(3):
            admission_book(actor=user, patient=PatientFactory(), kind="icu", hospital=hospital)
            availability_refresh(hospital_id=hospital.pk)
        assert EmergencyAlert.objects.filter(automatic=True, hospital=hospital, kind="icu").count() == 1
        availability_refresh(hospital_id=hospital.pk)
        assert EmergencyAlert.objects.filter(automatic=True).count() == 1


@pytest.mark.django_db
class TestApi:
    def test_book_through_the_api_and_refusals(self, nurse, hospital, outsider):
        user, c = nurse
        patient = PatientFactory()
        url = reverse("api:admissions")
        r = c.post(
            url, {"patient_mrn": patient.mrn, "kind": "icu", "hospital": hospital.pk}, content_type="application/json"
        )
        assert r.status_code == 201 and r.json()["status"] == "active"
        r = c.post(
            url, {"patient_mrn": patient.mrn, "kind": "icu", "hospital": hospital.pk}, content_type="application/json"
        )
        assert r.status_code == 409 and "already has an active admission" in r.json()["detail"]
        r = c.post(
            url, {"patient_mrn": "NOPE", "kind": "icu", "hospital": hospital.pk}, content_type="application/json"
        )
        assert r.status_code == 400 and "patient_mrn" in r.json()
        r = c.post(url, {"patient_mrn": patient.mrn, "kind": "icu"}, content_type="application/json")
        assert r.status_code == 400
        _, oc = outsider
        r = oc.post(
            url,
            {"patient_mrn": PatientFactory().mrn, "kind": "icu", "hospital": hospital.pk},
            content_type="application/json",
        )
        assert r.status_code == 403
        assert oc.get(url).json()["results"] == []
        listed = c.get(url).json()["results"]
        assert [a["mrn"] for a in listed] == [patient.mrn] and "name" not in listed[0] and "reason" not in listed[0]

    def test_a_booking_records_the_actors_role_from_the_users_own_query(self, nurse, hospital):
        """The audit rows name the booker's role; the roles were read with the user, not again."""
        from audit.models import AuditEvent

        user, c = nurse
        patient = PatientFactory()
        start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        with CaptureQueriesContext(connection) as ctx:
            r = c.post(
                reverse("api:admissions"),
                {"patient_mrn": patient.mrn, "kind": "icu", "hospital": hospital.pk},
                content_type="application/json",
            )
        assert r.status_code == 201
        rows = list(AuditEvent.objects.filter(id__gt=start, actor_id=user.pk))
        assert rows and {row.actor_role for row in rows} == {"nurse"}
        group_queries = [q["sql"] for q in ctx.captured_queries if "user_groups" in q["sql"]]
        assert len(group_queries) == 1 and "accounts_user" in group_queries[0], group_queries

    def test_hold_confirm_transfer_discharge_through_the_api(self, nurse, hospital):
        _, c = nurse
        patient = PatientFactory()
        r = c.post(
            reverse("api:admissions"),
            {"action": "hold", "patient_mrn": patient.mrn, "kind": "icu", "hospital": hospital.pk, "minutes": 15},
            content_type="application/json",
        )
        assert r.status_code == 201 and r.json()["status"] == "held"
        aid = r.json()["id"]
        assert c.post(reverse("api:admission-action", args=[aid, "confirm"])).json()["status"] == "active"
        target = Bed.objects.filter(hospital=hospital, kind="icu", status="available").first()
        r = c.post(
            reverse("api:admission-action", args=[aid, "transfer"]),
            {"to_bed": target.pk},
            content_type="application/json",
        )
        assert r.status_code == 200 and r.json()["bed"] == target.pk
        assert c.post(reverse("api:admission-action", args=[aid, "discharge"])).json()["status"] == "discharged"
        r = c.post(reverse("api:admission-action", args=[aid, "discharge"]))
        assert r.status_code == 409
        assert c.post(reverse("api:admission-action", args=[aid, "explode"])).status_code == 400

    def test_read_endpoints(self, nurse, hospital):
        _, c = nurse
        assert c.get(reverse("api:hospitals")).json()["results"][0]["code"] == "CGH"
        beds = c.get(reverse("api:beds"), {"hospital": hospital.pk, "kind": "icu"}).json()["results"]
        assert len(beds) == 4 and {b["status"] for b in beds} == {"available"}
        avail = c.get(reverse("api:availability"), {"kind": "icu"}).json()
        assert avail["results"][0]["kinds"]["icu"] == {"free": 4, "total": 4}
        assert c.get(reverse("api:availability"), {"kind": "spaceship"}).status_code == 400

    def test_patients_and_anonymous_are_refused(self, client, make_user, password, hospital):
        assert client.get(reverse("api:availability")).status_code == 403
        patient_user = make_user(Role.PATIENT, username="pat.api")
        client.post(reverse("accounts:login"), {"username": patient_user.username, "password": password})
        assert client.get(reverse("api:beds")).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_board_socket_receives_a_change_pushed_after_commit(make_user, settings):
    from hospital.asgi import application

    hospital = HospitalFactory(code="WSK")
    BedFactory(ward=WardFactory(hospital=hospital), kind="icu")
    availability_refresh(hospital_id=hospital.pk)
    actor = make_user(Role.EMERGENCY_COORDINATOR, username="coord.ws")

    async def scenario():
        from channels.db import database_sync_to_async

        communicator = WebsocketCommunicator(
            application, "/ws/public-board/", headers=[(b"origin", b"http://localhost")]
        )
        connected, _ = await communicator.connect()
        assert connected
        await database_sync_to_async(admission_book)(
            actor=actor, patient=await database_sync_to_async(PatientFactory)(), kind="icu", hospital=hospital
        )
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    message = async_to_sync(scenario)()
    assert message["type"] == "availability"
    assert message["entry"]["code"] == "WSK" and message["entry"]["kinds"]["icu"] == {"free": 0, "total": 1}


@pytest.mark.django_db(transaction=True)
def test_staff_socket_refuses_anonymous_visitors():
    from hospital.asgi import application

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/board/", headers=[(b"origin", b"http://localhost")])
        connected, code = await communicator.connect()
        return connected, code

    connected, code = async_to_sync(scenario)()
    assert not connected and code == 4403


@pytest.mark.django_db(transaction=True)
def test_signing_out_closes_the_staff_board_socket(make_user, mfa_login, settings):
    from channels.db import database_sync_to_async

    from hospital.asgi import application

    user = make_user(Role.EMERGENCY_COORDINATOR, username="coord.out")
    browser = mfa_login(user, Client())
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/board/", headers=[(b"origin", b"http://localhost"), (b"cookie", cookie.encode())]
        )
        connected, _ = await communicator.connect()
        assert connected, "a signed-in, MFA-verified coordinator may watch the board"
        await database_sync_to_async(browser.post)(reverse("accounts:logout"))
        closed = await communicator.receive_output(timeout=5)
        return closed

    closed = async_to_sync(scenario)()
    assert closed == {"type": "websocket.close", "code": 4401}
