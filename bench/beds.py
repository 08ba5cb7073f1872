"""Beds: booking under contention against a minimal SQL transaction; the board at 10 and 1,000 hospitals."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hospital.db.pool import close_pools

from .harness import median, verified_client

TARGETS = {"double_bookings": 0, "throughput_ratio_vs_floor": 0.7, "availability_ratio_vs_hello": 3.0}
ROOT = Path(__file__).resolve().parent.parent


def _make_hospitals(count: int, beds_each: int, *, prefix: str, kind: str = "icu") -> list[int]:
    from accounts.models import Hospital
    from beds.models import Bed, Ward
    from beds.services.availability import availability_refresh

    hospitals = Hospital.objects.bulk_create(
        [Hospital(code=f"{prefix}{i:04d}", name=f"Bench {prefix} {i}", region=f"R{i % 7}") for i in range(count)]
    )
    wards = Ward.objects.bulk_create([Ward(hospital=h, name="Main") for h in hospitals])
    beds = []
    for ward in wards:
        beds += [Bed(ward=ward, hospital_id=ward.hospital_id, label=f"B{j}", kind=kind) for j in range(beds_each)]
    Bed.objects.bulk_create(beds, batch_size=5000)
    for h in hospitals:
        availability_refresh(hospital_id=h.pk)
    return [h.pk for h in hospitals]


def _staff_user():
    from accounts.models import TOTPDevice, User
    from accounts.roles import Role
    from accounts.services.users import staff_user_create

    user = User.objects.filter(username="bench.coord").first()
    if user is None:
        user = staff_user_create(
            username="bench.coord",
            email="bench.coord@example.org",
            first_name="Bench",
            last_name="Coordinator",
            roles=[Role.EMERGENCY_COORDINATOR],
            hospital=None,
            password=secrets.token_urlsafe(18),
        )
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True
    )
    return user, device


# --- contention ---------------------------------------------------------------------------


def _floor_book(hospital_id: int, patient_id: int, user_id: int, reason_blob) -> bool:
    """The least a correct booking can do: lock a free bed, insert the admission, mark the bed."""
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM beds_bed WHERE hospital_id = %s AND kind = %s AND status = %s ORDER BY id LIMIT 1" + lock,
            [hospital_id, "icu", "available"],
        )
        row = cursor.fetchone()
        if row is None:
            return False
        cursor.execute(
            "INSERT INTO beds_admission (patient_id, bed_id, hospital_id, priority, reason, booked_by_id, status,"
            " created_at, admitted_at, live_bed, active_patient) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            [patient_id, row[0], hospital_id, "urgent", reason_blob, user_id, "active", now, now, row[0], patient_id],
        )
        cursor.execute("UPDATE beds_bed SET status = %s WHERE id = %s", ["occupied", row[0]])
    return True


def _race(fn, clients: int, per_client: int) -> float:
    barrier = threading.Barrier(clients)
    errors = []

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=60)
            for i in range(per_client):
                fn(n, i)
        except Exception as exc:  # collected and raised below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    # Every race starts without pooled connections, so neither inherits the other's open ones.
    connections.close_all()
    close_pools()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[:3])
    return elapsed


def contention(clients: int, per_client: int) -> dict:
    from beds.models import Admission
    from beds.services import admission_book
    from records.models import Patient
    from tests.factories import PatientFactory

    user, _ = _staff_user()
    total = clients * per_client
    ours_hospital, floor_hospital = _make_hospitals(2, total + 10, prefix="C")
    patients = [PatientFactory() for _ in range(2 * total)]
    from accounts.models import Hospital

    hospital = Hospital.objects.get(pk=ours_hospital)

    def ours(n, i):
        admission_book(actor=user, patient=patients[n * per_client + i], kind="icu", hospital=hospital)

    field = Admission._meta.get_field("reason")
    reason_blob = field.get_db_prep_save("", connection)

    def floor(n, i):
        assert _floor_book(floor_hospital, patients[total + n * per_client + i].pk, user.pk, reason_blob)

    connections.close_all()
    ours_s = _race(ours, clients, per_client)
    floor_s = _race(floor, clients, per_client)
    doubles = (
        Admission.objects.filter(status__in=["held", "active"]).values("bed_id").distinct().count()
        - Admission.objects.filter(status__in=["held", "active"]).count()
    )
    assert Patient.objects.count() >= 2 * total
    return {
        "clients": clients,
        "beds": 2 * (total + 10),
        "admissions": Admission.objects.count(),
        "double_bookings": -doubles,
        "bookings_per_s": total / ours_s,
        "floor_bookings_per_s": total / floor_s,
        "throughput_ratio_vs_floor": (total / ours_s) / (total / floor_s),
    }


# --- board ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The project's ASGI app under uvicorn, on the benchmark database, in a child process."""

    def __init__(self):
        self.port = _free_port()
        db = connection.settings_dict
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = "hospital.settings.test"
        if connection.vendor == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
        else:
            env["DATABASE_URL"] = (
                f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"
            )
        env["SECRET_KEY"] = settings.SECRET_KEY
        env["FERNET_KEYS"] = ",".join(settings.FERNET_KEYS)
        env["BLIND_INDEX_KEY"] = settings.BLIND_INDEX_KEY
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hospital.asgi:application",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                self.get("/healthz", {})
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the benchmark server did not start")

    def get(self, path: str, cookies: dict) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, body

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _session_cookie(user, device) -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.services.sessions import AUTH_AT_KEY, LAST_SEEN_KEY

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "accounts.backends.UsernameOrEmailBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store["otp_device_id"] = device.persistent_id
    now = timezone.now().isoformat()
    store[AUTH_AT_KEY] = now
    store[LAST_SEEN_KEY] = now
    store.create()
    return {settings.SESSION_COOKIE_NAME: store.session_key}


def _timed_get(server: Server, path: str, cookies: dict, repeat: int) -> float:
    server.get(path, cookies)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        status, _ = server.get(path, cookies)
        samples.append(time.perf_counter() - start)
        assert status == 200, (path, status)
    return median(samples)


def board(sizes: tuple[int, int], beds_each: int, repeat: int) -> dict:
    user, device = _staff_user()
    client = verified_client(user, device)
    result: dict = {}
    made = 0
    for size in sizes:
        _make_hospitals(size - made, beds_each, prefix=f"H{size}-")
        made = size
        for name, url in (("board_page", "/beds/"), ("availability_api", "/api/v1/availability/")):
            client.get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            result[f"{name}_queries_{size}"] = len(ctx.captured_queries)
    connections.close_all()
    server = Server()
    try:
        cookies = _session_cookie(user, device)
        connections.close_all()
        # The API and the minimal view alternate, so a change in the machine's load hits both alike.
        api, hello = [], []
        for _ in range(repeat):
            api.append(_timed_get(server, "/api/v1/availability/", cookies, 1))
            hello.append(_timed_get(server, "/healthz", {}, 1))
        result["availability_api_s_large"] = median(api)
        result["hello_s"] = median(hello)
        result["board_page_s_large"] = _timed_get(server, "/beds/", cookies, repeat)
    finally:
        server.stop()
    result["availability_ratio_vs_hello"] = median([a / h for a, h in zip(api, hello, strict=True)])
    result["availability_ratio_of_medians"] = result["availability_api_s_large"] / result["hello_s"]
    return result


def run(quick: bool = False) -> dict:
    clients, per_client = (8, 10) if quick else (16, 25)
    sizes = (10, 100) if quick else (10, 1000)
    result = {"database": connection.vendor, **contention(clients, per_client)}
    result.update(board(sizes, beds_each=50, repeat=15 if quick else 40))
    large = sizes[1]
    result["board_hospitals"] = list(sizes)
    result["query_count_same_at_both_sizes"] = all(
        result[f"{n}_queries_{sizes[0]}"] == result[f"{n}_queries_{large}"] for n in ("board_page", "availability_api")
    )
    result["targets"] = TARGETS
    result["targets_met"] = (
        result["double_bookings"] == 0
        and result["throughput_ratio_vs_floor"] >= TARGETS["throughput_ratio_vs_floor"]
        and result["availability_ratio_vs_hello"] <= TARGETS["availability_ratio_vs_hello"]
        and result["query_count_same_at_both_sizes"]
        and result[f"availability_api_queries_{large}"] <= 5
    )
    return result
