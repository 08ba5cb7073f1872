import contextlib
import statistics
import sys
import time

from django.db import connection


@contextlib.contextmanager
def fresh_database():
    """A new database migrated from scratch, dropped afterwards."""
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = old_name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def print_table(name: str, result: dict) -> None:
    sys.stdout.write(f"\n== {name} ({result.get('database', '?')}) ==\n")
    width = max(len(k) for k in result)
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.4g}"
        sys.stdout.write(f"  {key:<{width}}  {value}\n")


def verified_client(user, device=None):
    """A test client signed in as `user` with a verified MFA device, as after the real sign-in."""
    from django.test import Client

    from accounts.models import TOTPDevice

    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client
