"""Racing bookers on real concurrent connections: never two live admissions on a bed."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.db.models import Count

from accounts.models import User
from beds.models import Admission, AdmissionStatus, Bed, BedStatus
from beds.services import BookingError, admission_book
from hospital import context
from tests.factories import BedFactory, HospitalFactory, PatientFactory, UserFactory, WardFactory

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_mariadb():
    if connection.vendor != "mysql":
        pytest.fail("This test needs DATABASE_URL on MariaDB/MySQL; run it with -m mariadb there.")


def test_64_clinicians_racing_for_the_last_10_icu_beds_get_exactly_10_admissions():
    hospital = HospitalFactory(code="RACE")
    ward = WardFactory(hospital=hospital, name="ICU")
    for i in range(10):
        BedFactory(ward=ward, label=f"ICU-{i}", kind="icu")
    BedFactory(ward=ward, label="GEN-1", kind="general")  # a free bed of another kind stays free
    actor = UserFactory(username="racer")
    patients = [PatientFactory() for _ in range(64)]
    barrier = threading.Barrier(64)
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def clinician(n: int) -> None:
        try:
            with context.bind(context.RequestContext(username=f"clinician-{n}", origin="test")):
                barrier.wait(timeout=60)
                user = User.objects.get(pk=actor.pk)
                try:
                    admission_book(actor=user, patient=patients[n], kind="icu", hospital=hospital)
                    result = ("booked", "")
                except BookingError as exc:
                    result = ("refused", str(exc))
        except Exception as exc:  # anything else is a failure, reported below
            result = ("error", repr(exc))
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=clinician, args=(n,)) for n in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"booked": 10, "refused": 54}, outcomes
    assert {msg for kind, msg in outcomes if kind == "refused"} == {f"No ICU bed is free in {hospital.name}."}
    live = Admission.objects.filter(status__in=[AdmissionStatus.HELD, AdmissionStatus.ACTIVE])
    assert live.count() == 10
    assert not live.values("bed").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(Bed.objects.filter(kind="icu").values_list("status", flat=True)) == {BedStatus.OCCUPIED}
    assert Bed.objects.get(label="GEN-1").status == BedStatus.AVAILABLE
