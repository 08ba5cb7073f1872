"""Audit costs: audited writes against the same writes unaudited; a report page at 1M against 10k rows."""

import contextlib
import os
import secrets
import sqlite3
from datetime import timedelta

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.test import Client
from django.utils import timezone

from accounts.models import Hospital
from audit import receivers
from audit.chain import seal_pending
from hospital.db.pool import close_pools

from .harness import median, timed, verified_client

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


@contextlib.contextmanager
def _unaudited(model):
    """The model's audit receivers disconnected (all four), reconnected afterwards."""
    uid = f"audit.{model._meta.label_lower}"
    for signal, name in ((post_init, "post_init"), (pre_save, "pre_save"), (post_save, "post_save")):
        signal.disconnect(sender=model, dispatch_uid=f"{uid}.{name}")
    post_delete.disconnect(sender=model, dispatch_uid=f"{uid}.post_delete")
    try:
        yield
    finally:
        receivers.connect_model(model)


def _pairs(run, model, count: int, rounds: int) -> list[tuple[float, float]]:
    """(audited, plain) per round. Which of the two goes first alternates from round to round, so a
    drift in the machine's speed, or work one run leaves to the next (a WAL checkpoint, say), does
    not always fall on the same side."""

    def plain() -> float:
        with _unaudited(model):
            return run(count, audited=False)

    run(20, audited=True)  # warm up
    pairs = []
    for i in range(rounds):
        if i % 2 == 0:
            audited = run(count, audited=True)
            pairs.append((audited, plain()))
        else:
            unaudited = plain()
            pairs.append((run(count, audited=True), unaudited))
    return pairs


def _diagnoses(count: int, *, audited: bool, _world={}) -> float:  # noqa: B006 (built once per run)
    """The clinical write a doctor makes most: a diagnosis through its service (access check,
    validation, encryption, integrity digest), each in its own transaction."""
    from records.models import Diagnosis
    from records.services import diagnosis_create

    if not _world:
        _world.update(_clinical_world())
    doctor, patient = _world["doctor"], _world["patient"]

    def run() -> None:
        for i in range(count):
            with transaction.atomic():
                diagnosis_create(actor=doctor, patient=patient, code="J18.9", text=f"Pneumonia, episode {i}")
        if audited:
            seal_pending()

    assert Diagnosis is not None
    return timed(run, repeat=1)[0] / count


def _clinical_world() -> dict:
    from accounts.roles import Role
    from accounts.services.users import staff_user_create
    from records.services import grant_care_team
    from tests.factories import PatientFactory

    hospital = Hospital.objects.create(code=f"D{secrets.token_hex(3).upper()}", name="Bench clinical", region="R")
    people = {}
    for role, name in ((Role.DOCTOR, "doctor"), (Role.HOSPITAL_ADMIN, "admin")):
        people[name] = staff_user_create(
            username=f"bench.{name}.{hospital.code.lower()}",
            email=f"bench.{name}.{hospital.code.lower()}@example.org",
            first_name="Bench",
            last_name=name.title(),
            roles=[role],
            hospital=hospital,
            password=secrets.token_urlsafe(18),
        )
    patient = PatientFactory()
    grant_care_team(actor=people["admin"], patient=patient, grantee=people["doctor"], hours=24)
    seal_pending()
    return {"doctor": people["doctor"], "patient": patient}


def overhead(count: int, rounds: int) -> dict:
    """Audited and plain runs alternate, so a change in the machine's load hits both alike; the
    figure is the median of the per-round ratios (the ratio of the medians is printed beside it).

    The headline is the cheapest audited write there is (rename a hospital: validate, one UPDATE),
    where the audit row weighs most; a clinical write through its service is measured beside it."""
    from records.models import Diagnosis

    pairs = _pairs(_writes, Hospital, count, rounds)
    clinical = _pairs(_diagnoses, Diagnosis, count, rounds)
    audited = median([a for a, _ in pairs])
    plain = median([p for _, p in pairs])
    return {
        "writes": count,
        "rounds": rounds,
        "audited_write_s": audited,
        "plain_write_s": plain,
        "overhead_ratio": median([a / p for a, p in pairs]),
        "overhead_ratio_of_medians": audited / plain,
        # All audited time over all plain time: a rare costly run (a checkpoint) counts in full here.
        "overhead_ratio_of_totals": sum(a for a, _ in pairs) / sum(p for _, p in pairs),
        "clinical_audited_write_s": median([a for a, _ in clinical]),
        "clinical_plain_write_s": median([p for _, p in clinical]),
        "clinical_overhead_ratio": median([a / p for a, p in clinical]),
        "clinical_overhead_ratio_of_totals": sum(a for a, _ in clinical) / sum(p for _, p in clinical),
    }


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
    return verified_client(officer)


def _checkpoint() -> None:
    """SQLite: the timed pages read the database file, not partly a WAL that a bulk load left behind."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextlib.contextmanager
def _copy_of_database():
    """A copy of the benchmark's database as it is now, under another name; dropped afterwards.

    The report page is then timed against both sizes in alternation, so a slow phase of the
    machine falls on both alike instead of on whichever size happened to be timed then.
    """
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        copy = f"{name}.10k"
        _checkpoint()
        target = sqlite3.connect(copy)
        try:
            connection.ensure_connection()
            connection.connection.backup(target)
        finally:
            target.close()
    elif connection.vendor == "mysql":
        copy = f"{name}_10k"
        quote = connection.ops.quote_name
        tables = connection.introspection.table_names()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(copy)}")
            cursor.execute(f"CREATE DATABASE {quote(copy)}")
            for table in tables:  # names from the database's own catalogue, quoted
                cursor.execute(f"CREATE TABLE {quote(copy)}.{quote(table)} LIKE {quote(table)}")
                cursor.execute(f"INSERT INTO {quote(copy)}.{quote(table)} SELECT * FROM {quote(table)}")  # noqa: S608
            cursor.execute(f"ANALYZE TABLE {quote(copy)}.{quote('audit_auditevent')}")  # as the 1M table gets
    else:
        raise NotImplementedError(connection.vendor)
    try:
        yield copy
    finally:
        connection.close()
        close_pools(name=copy)
        if connection.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(copy + suffix)
        else:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(copy)}")


@contextlib.contextmanager
def _on_database(name: str):
    """The default connection pointed at database `name` of the same server, then back."""
    settings_dict = connection.settings_dict
    original = settings_dict["NAME"]
    connection.close()
    settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = original


def page_times(client: Client, patient: int, databases: dict[str, str], rounds: int, per_round: int) -> dict:
    """Median time of the report page filtered to one patient, on each database, and the median of
    the per-round ratios. Each round times `per_round` requests on every database in turn (which
    goes first alternates), after one untimed request there (a fresh connection, a cold cache)."""
    url = f"/audit/?patient={patient}"

    def one():
        response = client.get(url)
        assert response.status_code == 200 and len(response.context["page"].rows) == 50

    samples: dict[str, list[float]] = {label: [] for label in databases}
    ratios = []
    order = list(databases)
    for i in range(rounds):
        block = {}
        for label in order if i % 2 == 0 else reversed(order):
            with _on_database(databases[label]):
                one()
                block[label] = timed(one, per_round)
            samples[label].extend(block[label])
        small, large = order
        ratios.append(median(block[large]) / median(block[small]))
    return {label: median(values) for label, values in samples.items()} | {"ratio": median(ratios)}


def run(quick: bool = False) -> dict:
    # Many short rounds: audited and plain alternate often, so a change in the machine's load hits both alike.
    writes, rounds = (100, 7) if quick else (300, 31)
    small, large = (10_000, 100_000) if quick else (10_000, 1_000_000)
    result = {"database": connection.vendor, **overhead(writes, rounds)}
    result["sealed_by"] = "after-commit sealer; the events of each timed run are all sealed inside its timing"
    client = _officer_client()
    patients = 100
    _insert_events(0, small, patients)
    with _copy_of_database() as small_copy:
        _insert_events(small, large - small, patients)
        if connection.vendor == "mysql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE TABLE audit_auditevent")
        _checkpoint()
        main_database = str(connection.settings_dict["NAME"])
        pages = page_times(client, 7, {"small": small_copy, "large": main_database}, rounds, per_round=5)
    result.update(
        {
            "rows_small": small,
            "rows_large": large,
            "page_s_small": pages["small"],
            "page_s_large": pages["large"],
            # The median of per-round ratios; the two sizes alternate round by round.
            "page_ratio_1m_vs_10k": pages["ratio"],
            "page_ratio_of_medians": pages["large"] / pages["small"],
        }
    )
    result["targets"] = TARGETS
    result["targets_met"] = all(result[k] <= v for k, v in TARGETS.items())
    return result
