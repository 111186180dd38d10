"""Unit tests of the lake's schema file and the command line (wlspark.lake, wlspark.cli),
without a JVM: what they do before a SparkSession exists."""

from __future__ import annotations

import argparse
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wlspark import cli, lake  # noqa: E402
from wlspark.errors import JobError  # noqa: E402

PARTS = ["`day` DATE", "`host` STRING"]


class LakeSchema(unittest.TestCase):
    def test_portable_and_duckdb_names(self):
        meta = {"schema_version": 1, "columns": [
            {"name": "a", "type": "string"}, {"name": "b", "type": "int32"},
            {"name": "t", "type": "timestamp_utc"}, {"name": "c", "type": "VARCHAR"},
            {"name": "d", "type": "decimal(18, 3)"}, {"name": "day", "type": "DATE"},
            {"name": "host", "type": "STRING"}]}
        self.assertEqual(lake.lake_ddl(meta, "s.json"), [
            "`a` STRING", "`b` INT", "`t` TIMESTAMP", "`c` STRING", "`d` DECIMAL(18,3)"] + PARTS)

    def test_unknown_type_means_inferring(self):
        meta = {"schema_version": 1, "columns": [{"name": "a", "type": "GEOMETRY"}]}
        self.assertIsNone(lake.lake_ddl(meta, "s.json"))

    def test_no_columns_means_inferring(self):
        self.assertIsNone(lake.lake_ddl({"schema_version": 1}, "s.json"))

    def test_unknown_version_refused_naming_the_file(self):
        with self.assertRaisesRegex(JobError, r"^L/_weblog_schema\.json: lake schema_version 2 is not supported"):
            lake.lake_ddl({"schema_version": 2, "columns": []}, "L/_weblog_schema.json")
        with self.assertRaisesRegex(JobError, r"schema_version None"):
            lake.lake_ddl([1, 2], "s.json")

    def test_small_local_lake(self):
        with tempfile.TemporaryDirectory() as d:
            part = Path(d) / "logs" / "day=2024-06-01" / "host=a"
            part.mkdir(parents=True)
            (part / "part-a-1.parquet").write_bytes(b"x" * 1000)
            # Names starting with . or _ are not data: not counted.
            (part / ".part-a-2.parquet").write_bytes(b"x" * (lake.SMALL_LAKE_BYTES + 1))
            self.assertTrue(lake.local_lake_is_small(d))
            self.assertTrue(lake.local_lake_is_small(f"file://{d}"))
            (part / "part-a-3.parquet").write_bytes(b"x" * lake.SMALL_LAKE_BYTES)
            self.assertFalse(lake.local_lake_is_small(d))

    def test_remote_lake_is_not_small(self):
        self.assertFalse(lake.local_lake_is_small("s3a://bucket/lake"))


class CommandLine(unittest.TestCase):
    def test_durations(self):
        self.assertEqual(cli.duration("30m"), 1800)
        self.assertEqual(cli.duration("500ms"), 0.5)
        self.assertEqual(cli.duration("90"), 90)
        for bad in ("8d", "1.2.3s", "soon"):
            with self.subTest(bad), self.assertRaises(argparse.ArgumentTypeError):
                cli.duration(bad)

    def test_then_sets(self):
        a = cli.parse_args(["--lake", "L", "--out", "o1", "--from", "2024-06-01",
                            "--then", "--out", "o2", "--vhost", "v", "--humans-only"])
        self.assertEqual((a.out, str(a.date_from), a.vhost), ("o1", "2024-06-01", None))
        self.assertEqual([(t.out, t.vhost, t.humans_only) for t in a.then], [("o2", "v", True)])


if __name__ == "__main__":
    unittest.main()
