"""(Re)create the benchmark's database: `python bench/db.py recreate` drops and creates the database named
in DATABASE_URL, through the server's `postgres` maintenance database. It refuses any database whose name
does not contain "bench", so it can never drop the dev or test database."""

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def main(argv: list[str]) -> int:
    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        print(  # noqa: T201
            f"refusing to recreate {name!r}: the benchmark's database name must contain 'bench'",
            file=sys.stderr,
        )
        return 2
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if argv[1:] == ["recreate"]:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
