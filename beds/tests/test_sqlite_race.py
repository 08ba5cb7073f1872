import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_racing_bookers_on_sqlite_are_serialized_and_never_double_book(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "hospital.settings.test"
    result = subprocess.run(
        [sys.executable, "-m", "beds.tests.sqlite_race", str(tmp_path / "race.sqlite3"), "64", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    outcomes = report["outcomes"]
    assert outcomes.get("booked") == 10 and sum(outcomes.values()) == 64, report
    assert all(k == "booked" or k.startswith("refused: No ICU bed is free") for k in report["outcomes"]), report
    assert report["live_admissions"] == 10 and report["max_per_bed"] == 1 and report["occupied_beds"] == 10
