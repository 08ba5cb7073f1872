"""Demo data: a few hospitals and one user per role, with random passwords.

Idempotent: running it again creates nothing twice. A demo user keeps the password recorded
in var/demo-credentials.txt while it still matches; otherwise a new random one is set.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Hospital, User
from accounts.roles import HOSPITAL_SCOPED_ROLES, Role
from hospital import context

DEMO_HOSPITALS = [
    ("CGH", "Central General Hospital", "North", "1 Infirmary Road", "+44 20 7946 0001"),
    ("RVH", "Riverside Hospital", "North", "12 Quay Street", "+44 20 7946 0002"),
    ("SMC", "St Mary Medical Centre", "South", "5 Chapel Lane", "+44 20 7946 0003"),
]


def credentials_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "demo-credentials.txt"


def _read_existing(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in {r.value for r in Role}:
            found[parts[1]] = parts[2]
    return found


def _new_password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


class Command(BaseCommand):
    help = "Create demo hospitals and one demo user per role (idempotent); print the logins."

    def handle(self, *args, **options):
        path = credentials_path()
        known = _read_existing(path)
        with context.bind(context.RequestContext(username="command:seed_demo", origin="command:seed_demo")):
            rows = self._seed(known)
            extras = self._seed_other_apps()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.chmod(path, 0o600)
        lines = ["# role username password (demo only; random per machine)"]
        lines += [f"{role} {username} {password}" for role, username, password in rows]
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")

        self.stdout.write(self.style.SUCCESS("Demo logins (also in var/demo-credentials.txt):"))
        width = max(len(u) for _, u, _ in rows)
        for role, username, password in rows:
            self.stdout.write(f"  {role:<22} {username:<{width}}  {password}")
        self.stdout.write("Staff roles set up an authenticator app at first sign-in.")
        for line in extras:
            self.stdout.write(line)

    def _seed_other_apps(self) -> list[str]:
        """Apps with a `demo` module add their own demo data (accounts imports none of them)."""
        import importlib
        import importlib.util

        from django.apps import apps

        actor = User.objects.get(username="demo.emergency-coordinator")
        lines = []
        for app in apps.get_app_configs():
            if app.name != "accounts" and importlib.util.find_spec(f"{app.name}.demo") is not None:
                summary = importlib.import_module(f"{app.name}.demo").seed(actor=actor)
                lines.append(f"Demo {app.label}: {summary}")
        return lines

    @transaction.atomic
    def _seed(self, known: dict[str, str]) -> list[tuple[str, str, str]]:
        hospitals = {}
        for code, name, region, address, phone in DEMO_HOSPITALS:
            hospital, _ = Hospital.objects.get_or_create(
                code=code, defaults={"name": name, "region": region, "address": address, "phone": phone}
            )
            hospitals[code] = hospital
        rows = []
        for role in Role:
            username = f"demo.{role.value.replace('_', '-')}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, email=f"{username}@hospital.invalid")
                user.first_name = "Demo"
                user.last_name = role.label
            user.hospital = hospitals["CGH"] if role in HOSPITAL_SCOPED_ROLES else None
            user.is_active = True
            user.is_staff = role == Role.SYSTEM_ADMIN
            user.is_superuser = role == Role.SYSTEM_ADMIN
            password = known.get(username)
            if not password or not user.pk or not user.check_password(password):
                password = _new_password()
                user.set_password(password)
            user.full_clean()
            user.save()
            user.groups.set([Group.objects.get(name=role.value)])
            rows.append((role.value, username, password))
        return rows
