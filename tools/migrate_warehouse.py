"""Copy a weblog warehouse written by DuckDB 2.0 (weblog before 2026-12-03) into DuckDB 1.5's
storage format, which weblog's DuckDB 1.5.6 reads. Runs on the DuckDB 2.0 Python package
(`make migrate-warehouse DB=…` uses the Spark venv's). The old file is kept beside the new one
as <DB>.v2-backup; nothing is changed if any step fails.

usage: migrate_warehouse.py DB
"""

import os
import sys

import duckdb


def storage_version(con, alias):
    tags = con.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = ?", [alias]
    ).fetchone()[0]
    return tags.get("storage_version", "?")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    db = sys.argv[1]
    if not os.path.isfile(db):
        sys.exit(f"migrate-warehouse: {db} does not exist")
    new, kept = db + ".migrating", db + ".v2-backup"
    if os.path.exists(kept):
        sys.exit(f"migrate-warehouse: {kept} exists already (an earlier migration?); move it away first")
    if os.path.exists(new):
        os.remove(new)
    con = duckdb.connect()
    con.execute("ATTACH ? AS old (READ_ONLY)", [db])
    before = storage_version(con, "old")
    if not before.startswith("v2."):
        sys.exit(f"migrate-warehouse: {db} has storage {before}: nothing to migrate")
    con.execute("ATTACH ? AS new (STORAGE_VERSION 'v1.5.0')", [new])
    con.execute("COPY FROM DATABASE old TO new")
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'old' ORDER BY 1"
        ).fetchall()
    ]
    for t in tables:
        a = con.execute(f'SELECT count(*) FROM old."{t}"').fetchone()[0]
        b = con.execute(f'SELECT count(*) FROM new."{t}"').fetchone()[0]
        if a != b:
            os.remove(new)
            sys.exit(f"migrate-warehouse: {t} has {a} rows in {db} but {b} in the copy; nothing changed")
    after = storage_version(con, "new")
    con.close()
    os.rename(db, kept)
    os.rename(new, db)
    print(f"migrate-warehouse: {db}: {len(tables)} tables copied from storage {before} to {after}; "
          f"the original is kept as {kept}")


if __name__ == "__main__":
    main()
