"""Key rotation reads everything back under the new key alone; a dump holds no seeded personal data."""

import io
import secrets

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import TOTPDevice
from beds.models import Admission
from records.models import Patient
from records.selectors import patients_by_name
from tests.factories import PatientFactory


def raw_dump() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute("SELECT * FROM " + connection.ops.quote_name(table))
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        chunks.append(bytes(value).decode("latin-1"))
                    else:
                        chunks.append(str(value))
    return "\n".join(chunks).lower()


@pytest.mark.django_db
def test_a_dump_after_seeding_holds_no_patient_names_reasons_or_secrets(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.BASE_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    dump = raw_dump()
    for patient in Patient.objects.all():
        assert patient.name.lower() not in dump
        assert patient.date_of_birth.isoformat() not in dump
    assert "ambulance en route" not in dump and "demo admission" not in dump
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError):  # never a lookup on ciphertext
        Admission.objects.filter(reason="ambulance en route").count()


@pytest.mark.django_db
def test_name_search_goes_through_the_blind_index():
    ada = PatientFactory(name="Ada  Lovelace")
    PatientFactory(name="Grace Hopper")
    assert patients_by_name(name="ada lovelace") == [ada]
    assert patients_by_name(name="ADA LOVELACE ") == [ada]
    assert patients_by_name(name="Ada") == [] and patients_by_name(name="") == []
    assert "lovelace" not in raw_dump()


@pytest.mark.django_db
def test_rotate_keys_then_only_the_new_key_reads_everything(settings, tmp_path, doctor):
    settings.BASE_DIR = tmp_path
    # The data so far (the doctor's account among it) is under the suite's key: that is "old".
    old, new = settings.FERNET_KEYS[0], secrets.token_urlsafe(32)
    patients = [PatientFactory(name=f"Rotated Person {i}") for i in range(7)]
    device = TOTPDevice.objects.create(user=doctor, name="Phone", confirmed=True)
    secret = device.key

    settings.FERNET_KEYS = [new, old]  # deploy the new key first; the old one still reads
    assert {p.name for p in Patient.objects.all()} >= {p.name for p in patients}
    out = io.StringIO()
    call_command("rotate_keys", batch_size=3, stdout=out)
    assert "7/7" in out.getvalue() and "newest key" in out.getvalue()

    settings.FERNET_KEYS = [new]  # the old key is gone
    assert sorted(p.name for p in Patient.objects.all()) == sorted(p.name for p in patients)
    assert TOTPDevice.objects.get(pk=device.pk).key == secret

    settings.FERNET_KEYS = [old]  # and the old key alone no longer reads anything
    from cryptography.fernet import InvalidToken

    with pytest.raises(InvalidToken):
        list(Patient.objects.all())


@pytest.mark.django_db
def test_rotate_keys_resumes_from_its_checkpoint(settings, tmp_path):
    import json

    settings.BASE_DIR = tmp_path
    patients = [PatientFactory() for _ in range(5)]
    checkpoint = tmp_path / "var" / "rotate_keys.checkpoint.json"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_text(json.dumps({"records.Patient": patients[2].pk}))
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "records.Patient" in out.getvalue() and "5/5" in out.getvalue()
    assert not checkpoint.exists()
