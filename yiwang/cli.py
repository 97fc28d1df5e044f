"""The `yiwang` console command: Django's management commands behind one name.

    yiwang migrate | demo | serve [--host H] [--port P] | worker | audit verify | ...

The embedded settings are the default; set DJANGO_SETTINGS_MODULE=yiwang.settings.production
(or YIWANG_ENV=production) for the city topology.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    if "DJANGO_SETTINGS_MODULE" not in os.environ:
        env = os.environ.get("YIWANG_ENV", "embedded")
        os.environ["DJANGO_SETTINGS_MODULE"] = f"yiwang.settings.{env}"
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yiwang", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
