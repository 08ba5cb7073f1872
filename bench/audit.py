"""Audit costs: audited writes against the same writes unaudited; a report page at 1M against 10k rows."""

import secrets
from datetime import timedelta

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.test import Client
from django.utils import timezone

from accounts.models import Hospital
from audit import receivers
from audit.chain import seal_pending

from .harness import median, timed

TARGETS = {"overhead_ratio": 1.3, "page_ratio_1m_vs_10k": 1.5}


def _hospital_rename(hospital: Hospital, n: int) -> None:
    # What a service does: validate, save, in one transaction.
    with transaction.atomic():
        hospital.name = f"Bench hospital {n}"
        hospital.full_clean()
        hospital.save()


def _writes(count: int, *, audited: bool) -> float:
    hospital = Hospital.objects.create(code=f"B{secrets.token_hex(3).upper()}", name="Bench hospital", region="R")
    seal_pending()

    def run() -> None:
        for i in range(count):
            _hospital_rename(hospital, i)
        if audited:
            seal_pending()  # the chain work is part of the cost: every event written is sealed in the timing

    return timed(run, repeat=1)[0] / count


def overhead(count: int) -> dict:
    _writes(20, audited=True)  # warm up
    rounds = []
    for _ in range(3):
        audited = _writes(count, audited=True)
        pre_save.disconnect(sender=Hospital, dispatch_uid="audit.accounts.hospital.pre_save")
        post_save.disconnect(sender=Hospital, dispatch_uid="audit.accounts.hospital.post_save")
        post_delete.disconnect(sender=Hospital, dispatch_uid="audit.accounts.hospital.post_delete")
        try:
            plain = _writes(count, audited=False)
        finally:
            receivers.connect_model(Hospital)
        rounds.append((audited, plain))
    audited = median([a for a, _ in rounds])
    plain = median([p for _, p in rounds])
    return {"writes": count, "audited_write_s": audited, "plain_write_s": plain, "overhead_ratio": audited / plain}


def _insert_events(first: int, count: int, patients: int) -> None:
    base = timezone.now() - timedelta(days=365)
    table = connection.ops.quote_name("audit_auditevent")
    columns = (
        "seq, occurred_at, actor_id, actor_name, actor_role, patient_id, action, object_id, object_label,"
        " category, changes, user_agent, request_id, reason, outcome, prev_hash, hash"
    )
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 17)})"  # noqa: S608 (constant)
    batch = []
    with connection.cursor() as cursor:
        for i in range(first, first + count):
            batch.append(
                (
                    1_000_000_000 + i,
                    base + timedelta(seconds=i),
                    None,
                    f"user{i % 97}",
                    "doctor",
                    (i % patients) + 1,
                    "view",
                    str(i),
                    f"record {i}",
                    "diagnosis",
                    "{}",
                    "",
                    "",
                    "",
                    "success",
                    "0" * 64,
                    f"{i:064x}",
                )
            )
            if len(batch) == 5000:
                with transaction.atomic():
                    cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            with transaction.atomic():
                cursor.executemany(sql, batch)


def _officer_client() -> Client:
    from accounts.models import TOTPDevice
    from accounts.roles import Role
    from accounts.services.users import staff_user_create

    password = secrets.token_urlsafe(18)
    officer = staff_user_create(
        username="bench.officer",
        email="bench.officer@example.org",
        first_name="Bench",
        last_name="Officer",
        roles=[Role.PRIVACY_OFFICER],
        hospital=None,
        password=password,
    )
    device = TOTPDevice.objects.create(user=officer, name="bench", confirmed=True)
    client = Client()
    client.force_login(officer)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def page_time(client: Client, patient: int, repeat: int) -> float:
    url = f"/audit/?patient={patient}"
    client.get(url)

    def one():
        response = client.get(url)
        assert response.status_code == 200 and len(response.context["page"].rows) == 50

    return median(timed(one, repeat))


def run(quick: bool = False) -> dict:
    writes = 100 if quick else 500
    small, large = (10_000, 100_000) if quick else (10_000, 1_000_000)
    result = {"database": connection.vendor, **overhead(writes)}
    result["sealed_by"] = "after-commit sealer; the events of each timed run are all sealed inside its timing"
    client = _officer_client()
    patients = 100
    _insert_events(0, small, patients)
    t_small = page_time(client, patient=7, repeat=30)
    _insert_events(small, large - small, patients)
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE TABLE audit_auditevent")
    t_large = page_time(client, patient=7, repeat=30)
    result.update(
        {
            "rows_small": small,
            "rows_large": large,
            "page_s_small": t_small,
            "page_s_large": t_large,
            "page_ratio_1m_vs_10k": t_large / t_small,
        }
    )
    result["targets"] = TARGETS
    result["targets_met"] = all(result[k] <= v for k, v in TARGETS.items())
    return result
