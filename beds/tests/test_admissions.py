"""Booking, holds, transfers, discharge and the status map; the database's own guarantees."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from beds.models import Admission, AdmissionStatus, BedStatus
from beds.services import (
    BookingError,
    CapacityError,
    admission_book,
    admission_cancel_hold,
    admission_confirm_hold,
    admission_discharge,
    admission_hold,
    admission_transfer,
    bed_set_status,
    holds_release_expired,
)
from tests.factories import BedFactory, HospitalFactory, PatientFactory, WardFactory


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.EMERGENCY_COORDINATOR, username="coord")


@pytest.fixture
def icu(db):
    hospital = HospitalFactory(code="ICU1", region="North")
    ward = WardFactory(hospital=hospital, name="Critical care")
    return hospital, [BedFactory(ward=ward, label=f"ICU-{i}", kind="icu") for i in range(3)]


@pytest.mark.django_db
class TestBook:
    def test_books_the_first_free_bed_of_the_kind(self, coordinator, icu):
        hospital, beds = icu
        patient = PatientFactory()
        admission = admission_book(actor=coordinator, patient=patient, kind="icu", hospital=hospital, reason="sepsis")
        assert admission.bed == beds[0] and admission.status == AdmissionStatus.ACTIVE
        beds[0].refresh_from_db()
        assert beds[0].status == BedStatus.OCCUPIED
        assert admission.live_bed == beds[0].pk and admission.active_patient == patient.pk

    def test_no_free_bed_is_a_clear_refusal_and_changes_nothing(self, coordinator, icu):
        hospital, beds = icu
        for _ in beds:
            admission_book(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital)
        with pytest.raises(BookingError, match="No ICU bed is free"):
            admission_book(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital)
        assert Admission.objects.count() == 3

    def test_a_patient_cannot_hold_two_active_admissions(self, coordinator, icu):
        hospital, beds = icu
        patient = PatientFactory()
        admission_book(actor=coordinator, patient=patient, kind="icu", hospital=hospital)
        with pytest.raises(BookingError, match="already has an active admission"):
            admission_book(actor=coordinator, patient=patient, kind="icu", hospital=hospital)
        assert Admission.objects.count() == 1

    def test_a_bed_taken_behind_the_lock_is_refused_with_a_message_and_nothing_is_kept(self, coordinator, icu):
        # A live admission the bed's status does not show (written behind the services' back): the
        # database's unique live_bed refuses the INSERT, and the booking says the bed was taken.
        hospital, beds = icu
        Admission.objects.bulk_create([TestDatabaseGuarantees()._admission(beds[0], PatientFactory(), coordinator)])
        patient = PatientFactory()
        audit_rows = AuditEvent.objects.count()
        with transaction.atomic():  # the caller's own transaction stays usable after the refusal
            with pytest.raises(BookingError, match="taken by another booking"):
                admission_book(actor=coordinator, patient=patient, kind="icu", hospital=hospital)
            assert Admission.objects.filter(patient=patient).count() == 0
        beds[0].refresh_from_db()
        assert beds[0].status == BedStatus.AVAILABLE
        assert AuditEvent.objects.count() == audit_rows

    def test_best_hospital_in_a_region_is_the_one_with_most_free_beds(self, coordinator):
        small = HospitalFactory(code="SML", region="East")
        big = HospitalFactory(code="BIG", region="East")
        BedFactory(ward=WardFactory(hospital=small), kind="hdu")
        big_ward = WardFactory(hospital=big)
        BedFactory(ward=big_ward, kind="hdu")
        BedFactory(ward=big_ward, kind="hdu")
        admission = admission_book(actor=coordinator, patient=PatientFactory(), kind="hdu", region="East")
        assert admission.hospital == big

    def test_closed_wards_and_inactive_hospitals_are_not_booked(self, coordinator):
        hospital = HospitalFactory(code="CLS")
        BedFactory(ward=WardFactory(hospital=hospital, active=False), kind="general")
        with pytest.raises(BookingError):
            admission_book(actor=coordinator, patient=PatientFactory(), kind="general", hospital=hospital)
        gone = HospitalFactory(code="GON", active=False, region="West")
        BedFactory(ward=WardFactory(hospital=gone), kind="general")
        for where in ({"hospital": gone}, {"region": "West"}):
            with pytest.raises(BookingError, match="No General bed is free"):
                admission_book(actor=coordinator, patient=PatientFactory(), kind="general", **where)

    @pytest.mark.parametrize(
        ("kind", "priority", "message"), [("suite", "urgent", "Unknown bed kind"), ("icu", "asap", "Unknown priority")]
    )
    def test_bad_input_is_refused_with_a_message(self, coordinator, icu, kind, priority, message):
        with pytest.raises(BookingError, match=message):
            admission_book(actor=coordinator, patient=PatientFactory(), kind=kind, hospital=icu[0], priority=priority)

    def test_booking_is_audited_without_the_reason_text(self, coordinator, icu):
        admission = admission_book(
            actor=coordinator, patient=PatientFactory(), kind="icu", hospital=icu[0], reason="suspected meningitis"
        )
        row = AuditEvent.objects.get(action="create", object_label=f"admission {admission.pk}")
        assert row.patient_id == admission.patient_id and row.category == "bed"
        assert row.changes["reason"] == "set"
        assert "meningitis" not in str(list(AuditEvent.objects.values_list("changes", "object_label", "reason")))


@pytest.mark.django_db
class TestHolds:
    def test_hold_then_confirm(self, coordinator, icu):
        hospital, beds = icu
        hold = admission_hold(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital)
        assert hold.status == AdmissionStatus.HELD
        assert timedelta(minutes=29) < hold.hold_expires_at - timezone.now() <= timedelta(minutes=30)
        beds[0].refresh_from_db()
        assert beds[0].status == BedStatus.RESERVED
        admission = admission_confirm_hold(actor=coordinator, admission_id=hold.pk)
        assert admission.status == AdmissionStatus.ACTIVE and admission.active_patient == admission.patient_id
        beds[0].refresh_from_db()
        assert beds[0].status == BedStatus.OCCUPIED

    def test_expired_holds_are_released_and_cannot_be_confirmed(self, coordinator, icu):
        hospital, beds = icu
        hold = admission_hold(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital, minutes=5)
        other = admission_hold(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital, minutes=60)
        later = timezone.now() + timedelta(minutes=6)
        assert holds_release_expired(now=later) == 1
        hold.refresh_from_db()
        other.refresh_from_db()
        assert hold.status == AdmissionStatus.CANCELLED and hold.live_bed is None
        assert other.status == AdmissionStatus.HELD
        beds[0].refresh_from_db()
        assert beds[0].status == BedStatus.AVAILABLE
        with pytest.raises(BookingError, match="Only a held bed"):
            admission_confirm_hold(actor=coordinator, admission_id=hold.pk)

    def test_a_hold_past_expiry_is_refused_even_before_the_sweep(self, coordinator, icu):
        hold = admission_hold(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=icu[0], minutes=1)
        Admission.objects.filter(pk=hold.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
        with pytest.raises(BookingError, match="expired"):
            admission_confirm_hold(actor=coordinator, admission_id=hold.pk)

    def test_cancel_hold_frees_the_bed(self, coordinator, icu):
        hold = admission_hold(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=icu[0])
        admission_cancel_hold(actor=coordinator, admission_id=hold.pk)
        assert icu[1][0].__class__.objects.get(pk=hold.bed_id).status == BedStatus.AVAILABLE

    @pytest.mark.parametrize("minutes", [0, 60 * 13])
    def test_hold_length_is_bounded(self, coordinator, icu, minutes):
        with pytest.raises(BookingError, match="1 minute to 12 hours"):
            admission_hold(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=icu[0], minutes=minutes)


@pytest.mark.django_db
class TestTransferAndDischarge:
    def test_transfer_to_another_hospital(self, coordinator, icu):
        hospital, beds = icu
        admission = admission_book(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital)
        target = BedFactory(ward=WardFactory(hospital=HospitalFactory(code="FAR")), kind="icu")
        moved = admission_transfer(actor=coordinator, admission_id=admission.pk, to_bed_id=target.pk)
        assert moved.bed == target and moved.hospital == target.hospital and moved.live_bed == target.pk
        beds[0].refresh_from_db()
        target.refresh_from_db()
        assert (beds[0].status, target.status) == (BedStatus.CLEANING, BedStatus.OCCUPIED)

    def test_transfer_to_a_taken_bed_is_refused(self, coordinator, icu):
        hospital, beds = icu
        a = admission_book(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital)
        admission_book(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital)
        with pytest.raises(BookingError, match="not free"):
            admission_transfer(actor=coordinator, admission_id=a.pk, to_bed_id=beds[1].pk)
        with pytest.raises(BookingError, match="does not exist"):
            admission_transfer(actor=coordinator, admission_id=a.pk, to_bed_id=10**12)

    def test_discharge_sends_the_bed_to_cleaning_then_housekeeping_frees_it(self, coordinator, icu):
        hospital, beds = icu
        admission = admission_book(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=hospital)
        admission_discharge(actor=coordinator, admission_id=admission.pk)
        admission.refresh_from_db()
        assert admission.status == AdmissionStatus.DISCHARGED and admission.live_bed is None
        assert admission.active_patient is None and admission.discharged_at
        beds[0].refresh_from_db()
        assert beds[0].status == BedStatus.CLEANING
        with pytest.raises(BookingError):
            admission_discharge(actor=coordinator, admission_id=admission.pk)
        bed_set_status(actor=coordinator, bed_id=beds[0].pk, status=BedStatus.AVAILABLE)
        # The same patient can be admitted again.
        admission_book(actor=coordinator, patient=admission.patient, kind="icu", hospital=hospital)


@pytest.mark.django_db
class TestStatusMap:
    @pytest.mark.parametrize(
        ("start", "new", "allowed"),
        [
            ("available", "closed", True),
            ("available", "isolated", True),
            ("closed", "available", True),
            ("cleaning", "available", True),
            ("cleaning", "isolated", False),
            ("closed", "isolated", False),
            ("isolated", "cleaning", True),
        ],
    )
    def test_transitions(self, coordinator, start, new, allowed):
        bed = BedFactory(status=start)
        if allowed:
            assert bed_set_status(actor=coordinator, bed_id=bed.pk, status=new).status == new
        else:
            with pytest.raises(CapacityError, match="cannot become"):
                bed_set_status(actor=coordinator, bed_id=bed.pk, status=new)

    @pytest.mark.parametrize("status", ["occupied", "reserved", "broken"])
    def test_occupancy_is_set_only_by_admissions(self, coordinator, status):
        bed = BedFactory()
        with pytest.raises(CapacityError):
            bed_set_status(actor=coordinator, bed_id=bed.pk, status=status)

    def test_an_occupied_bed_cannot_be_closed(self, coordinator, icu):
        admission = admission_book(actor=coordinator, patient=PatientFactory(), kind="icu", hospital=icu[0])
        with pytest.raises(CapacityError, match="cannot become closed"):
            bed_set_status(actor=coordinator, bed_id=admission.bed_id, status="closed")


@pytest.mark.django_db
class TestDatabaseGuarantees:
    def _admission(self, bed, patient, user, status="active"):
        return Admission(
            patient=patient,
            bed=bed,
            hospital=bed.hospital,
            booked_by=user,
            status=status,
            live_bed=bed.pk if status in ("held", "active") else None,
            active_patient=patient.pk if status == "active" else None,
            hold_expires_at=timezone.now() if status == "held" else None,
        )

    def test_two_live_admissions_on_one_bed_are_refused_by_the_database(self, coordinator):
        bed = BedFactory()
        Admission.objects.bulk_create([self._admission(bed, PatientFactory(), coordinator)])
        with pytest.raises(IntegrityError), transaction.atomic():
            Admission.objects.bulk_create([self._admission(bed, PatientFactory(), coordinator, status="held")])

    def test_two_active_admissions_of_one_patient_are_refused_by_the_database(self, coordinator):
        patient = PatientFactory()
        Admission.objects.bulk_create([self._admission(BedFactory(), patient, coordinator)])
        with pytest.raises(IntegrityError), transaction.atomic():
            Admission.objects.bulk_create([self._admission(BedFactory(), patient, coordinator)])

    def test_a_live_admission_must_mark_its_bed(self, coordinator):
        bed = BedFactory()
        bad = self._admission(bed, PatientFactory(), coordinator)
        bad.live_bed = None
        with pytest.raises(IntegrityError), transaction.atomic():
            Admission.objects.bulk_create([bad])

    def test_ended_admissions_do_not_block_the_bed(self, coordinator):
        bed = BedFactory()
        Admission.objects.bulk_create(
            [self._admission(bed, PatientFactory(), coordinator, status="discharged") for _ in range(3)]
        )
        Admission.objects.bulk_create([self._admission(bed, PatientFactory(), coordinator)])
        assert Admission.objects.filter(bed=bed).count() == 4

    def test_an_active_admission_must_mark_its_patient(self, coordinator):
        bad = self._admission(BedFactory(), PatientFactory(), coordinator)
        bad.active_patient = None
        with pytest.raises(IntegrityError), transaction.atomic():
            Admission.objects.bulk_create([bad])


@pytest.mark.django_db
def test_the_admitting_clinician_joins_the_care_team(make_user, icu):
    from records.permissions import record_parts

    hospital, _ = icu
    nurse = make_user(Role.NURSE, username="adm.nurse", hospital=hospital)
    coordinator = make_user(Role.EMERGENCY_COORDINATOR, username="adm.coord")
    patient, other = PatientFactory(), PatientFactory()
    admission_book(actor=nurse, patient=patient, kind="icu", hospital=hospital)
    admission_book(actor=coordinator, patient=other, kind="icu", hospital=hospital)
    assert "diagnoses" in record_parts(user=nurse, patient=patient)
    assert record_parts(user=coordinator, patient=other) == set()
