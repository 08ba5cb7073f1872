"""Send requests through the project's ASGI application on a SQLite file database; print, as JSON,
which raw database connection each request used and how many connections the pool opened.

Used by test_db_pool.py in a separate process, so the default database is a file the pool serves
(the test suite's own database is in memory, which is never pooled).
Usage: python -m tests.asgi_pool_probe <database file> <path> <requests>
"""

import asyncio
import json
import os
import sys


async def get(application, path: str, cookie: str = "") -> int:
    """One GET through the ASGI application, to its very end; returns the status."""
    from asgiref.testing import ApplicationCommunicator

    headers = [(b"host", b"127.0.0.1")] + ([(b"cookie", cookie.encode())] if cookie else [])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=30)
    while (await communicator.receive_output(timeout=30)).get("more_body"):
        pass  # the body, in one or more parts
    await communicator.wait(timeout=30)  # the request's end: Django gives its connection back
    return start["status"]


def main(path: str, url: str, requests: int) -> dict:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "hospital.settings.test"
    os.environ.pop("CELERY_BROKER_URL", None)
    from django.core.management import call_command
    from django.db import connections
    from django.db.backends.signals import connection_created

    from hospital.asgi import application
    from hospital.db.pool import pool_stats

    call_command("migrate", verbosity=0)
    connections.close_all()
    used = []  # the raw connections themselves: kept alive, so two can never share an id()
    connection_created.connect(lambda sender, connection, **kwargs: used.append(connection.connection), weak=False)
    statuses = [asyncio.run(get(application, url)) for _ in range(requests)]
    (stats,) = [s for key, s in pool_stats().items() if key.name == connections["default"].settings_dict["NAME"]]
    return {
        "statuses": statuses,
        "connects": len(used),
        "distinct_connections": len({id(raw) for raw in used}),
        "pool": stats,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
