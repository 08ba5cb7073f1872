"""Audited models are written only through save()/delete(), so every write reaches the audit receivers.

Two nets: a scan of the application source (this file), and a guard installed for the whole
test run (conftest.py) that fails any update()/bulk_create()/bulk_update() on an audited model
called from application code.
"""

import ast
import types
from pathlib import Path

import pytest
from django.db.models import QuerySet

from audit import registry

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "audit", "beds", "records", "compliance", "hospital"]
BYPASSING_METHODS = {"update", "bulk_create", "bulk_update", "_raw_delete"}
RAW_SQL_METHODS = {"raw", "extra", "execute", "executemany"}
# Raw SQL the platform needs, each a constant string with parameters: the readiness probe,
# the audit chain (an event's INSERT in every audited write; the sealer's head lock and the
# chain columns it fills in, by one statement per batch), the SQLite backend's checks of a
# pooled connection before it is reused (SELECT 1, PRAGMA foreign_keys; no table is touched), and
# the MySQL backend's cursor wrapper, which passes on the statements Django gives it, preceded by
# those queued with send_with_next (the audit INSERT): it writes nothing of its own.
RAW_SQL_ALLOWED = {
    ("hospital/views.py", "execute"),
    ("audit/chain.py", "execute"),
    ("audit/chain.py", "executemany"),
    ("hospital/db/backends/sqlite3/base.py", "execute"),
    ("hospital/db/backends/mysql/base.py", "execute"),
    ("hospital/db/backends/mysql/base.py", "executemany"),
}


def app_sources():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "/tests/" in rel or "/migrations/" in rel:
                continue
            yield rel, ast.parse(path.read_text(), filename=rel)


def receiver_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def test_no_app_code_bypasses_signals_on_an_audited_model():
    audited = {model.__name__ for model in registry.registered_models()}
    assert {"User", "Hospital"} <= audited
    offences = []
    for rel, tree in app_sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method = node.func.attr
            if method in BYPASSING_METHODS:
                touched = receiver_names(node.func.value) & audited
                if touched:
                    offences.append(f"{rel}:{node.lineno} {'/'.join(sorted(touched))}.{method}()")
            elif method in RAW_SQL_METHODS and (rel, method) not in RAW_SQL_ALLOWED:
                offences.append(f"{rel}:{node.lineno} raw SQL .{method}()")
    assert offences == []


def test_the_chain_head_sql_names_the_chain_head_table():
    from audit import chain
    from audit.models import ChainHead

    assert ChainHead._meta.db_table == "audit_chainhead"
    assert all(
        "audit_chainhead" in sql
        for sql in (
            chain._SELECT_HEAD,
            chain._SELECT_HEAD_FOR_UPDATE,
            chain._SELECT_HEAD_SKIP_LOCKED,
            chain._ADVANCE_HEAD,
        )
    )


def test_the_scan_catches_a_bypass(tmp_path):
    tree = ast.parse("User.objects.filter(pk=1).update(is_active=False)\nHospital.objects.bulk_create([])\n")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
    flagged = [
        c.func.attr
        for c in calls
        if c.func.attr in BYPASSING_METHODS and receiver_names(c.func.value) & {"User", "Hospital"}
    ]
    assert flagged == ["update", "bulk_create"]


def _update_first_name():
    User.objects.filter(pk=target_pk).update(first_name="x")  # noqa: F821 (globals given below)


@pytest.mark.django_db
def test_the_runtime_guard_refuses_a_bypass_from_app_code(doctor):
    # The same code, as if it lived in an application module.
    app_globals = {"__name__": "accounts.services.example", "User": type(doctor), "target_pk": doctor.pk}
    bypass = types.FunctionType(_update_first_name.__code__, app_globals)
    with pytest.raises(AssertionError, match="bypasses the audit"):
        bypass()
    assert QuerySet.update.__name__ == "guarded"
