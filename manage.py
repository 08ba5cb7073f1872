#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings.local")
    from django.core.management import execute_from_command_line

    from hospital import context

    # Whatever a command changes is audited with the command as the actor.
    name = sys.argv[1] if len(sys.argv) > 1 else "help"
    with context.bind(context.RequestContext(username=f"command:{name}", origin=f"command:{name}")):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
