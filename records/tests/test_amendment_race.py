"""Clinicians deciding the same amendment request at once, on real concurrent connections: one decides."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from accounts.models import User
from accounts.roles import Role
from audit.models import AuditEvent
from hospital import context
from records.models import Amendment
from records.services import PatientError, amendment_decide, amendment_request, grant_care_team
from tests.factories import HospitalFactory, PatientFactory, UserFactory

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_mariadb():
    if connection.vendor != "mysql":
        pytest.fail("This test needs DATABASE_URL on MariaDB/MySQL; run it with -m mariadb there.")


def test_sixteen_clinicians_deciding_one_request_at_once_decide_it_once():
    hospital = HospitalFactory(code="RACEA")
    admin = UserFactory(username="race.admin", role=Role.HOSPITAL_ADMIN, hospital=hospital)
    me = UserFactory(username="race.patient", role=Role.PATIENT)
    patient = PatientFactory(user=me)
    clinicians = [
        UserFactory(username=f"race.c{n}", role=Role.DOCTOR if n % 2 else Role.NURSE, hospital=hospital)
        for n in range(16)
    ]
    for clinician in clinicians:
        grant_care_team(actor=admin, patient=patient, grantee=clinician)
    amendment = amendment_request(actor=me, patient=patient, text="Race me")
    barrier = threading.Barrier(len(clinicians))
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def decide(n: int) -> None:
        try:
            with context.bind(context.RequestContext(username=f"race.c{n}", origin="test")):
                barrier.wait(timeout=60)
                actor = User.objects.get(pk=clinicians[n].pk)
                try:
                    amendment_decide(actor=actor, amendment_id=amendment.pk, accept=n % 2 == 0, reason=f"no {n}")
                    result = ("decided", str(n))
                except PatientError as exc:
                    result = ("refused", str(exc))
        except Exception as exc:  # anything else is a failure, reported below
            result = ("error", repr(exc))
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(len(clinicians))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"decided": 1, "refused": 15}, outcomes
    assert {msg for kind, msg in outcomes if kind == "refused"} == {"This amendment request has already been decided."}
    winner = int(next(msg for kind, msg in outcomes if kind == "decided"))
    amendment.refresh_from_db()
    assert amendment.decided_by_id == clinicians[winner].pk and amendment.verify()
    assert amendment.status == ("accepted" if winner % 2 == 0 else "denied")
    assert AuditEvent.objects.filter(object_label=f"amendment {amendment.pk}", action="update").count() == 1
    assert Amendment.objects.count() == 1
