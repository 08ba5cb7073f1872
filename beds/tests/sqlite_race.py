"""Run N threads booking the last beds on a SQLite file database; print the outcome as JSON.

Used by test_sqlite_race.py in a separate process, so the threads talk to a real file
database through their own connections (the test suite's own database is in memory).
Usage: python -m beds.tests.sqlite_race <database file> <threads> <beds>
"""

import json
import os
import sys
import threading
from collections import Counter


def main(path: str, threads_n: int, beds_n: int) -> dict:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from beds.models import Admission, AdmissionStatus, Bed
    from beds.services import BookingError, admission_book
    from tests.factories import BedFactory, HospitalFactory, PatientFactory, WardFactory

    hospital = HospitalFactory(code="SQLRACE")
    ward = WardFactory(hospital=hospital, name="ICU")
    for i in range(beds_n):
        BedFactory(ward=ward, label=f"ICU-{i}", kind="icu")
    actor = User.objects.create_user("racer", "racer@example.org", None)
    patients = [PatientFactory() for _ in range(threads_n)]
    connections.close_all()
    barrier = threading.Barrier(threads_n)
    outcomes, lock = [], threading.Lock()

    def clinician(n: int) -> None:
        try:
            barrier.wait(timeout=60)
            try:
                admission_book(actor=actor, patient=patients[n], kind="icu", hospital=hospital)
                result = "booked"
            except BookingError as exc:
                result = "refused: " + str(exc)
        except Exception as exc:  # reported to the test as an error outcome
            result = "error: " + repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=clinician, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    live = Admission.objects.filter(status__in=[AdmissionStatus.HELD, AdmissionStatus.ACTIVE])
    per_bed = Counter(live.values_list("bed_id", flat=True))
    return {
        "outcomes": dict(Counter(outcomes)),
        "live_admissions": live.count(),
        "max_per_bed": max(per_bed.values(), default=0),
        "occupied_beds": Bed.objects.filter(status="occupied").count(),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
