"""Unit tests of the DuckDB -> Spark SQL translator (wlspark.translate), without a JVM.

    python -m unittest discover -s spark/tests        (make test runs them)

Each expected Spark SQL text is written by hand from the rule's docstring; check.py runs
the same rules on Spark and DuckDB and compares the values, this only pins the text.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SPARK = Path(__file__).resolve().parent.parent
REPO = SPARK.parent
sys.path.insert(0, str(SPARK))

from wlspark import translate as tr  # noqa: E402
from wlspark.errors import JobError  # noqa: E402
from wlspark.translate import Filters, TranslationError, translate  # noqa: E402

#: The table the type-dependent rules (7 casts, 8 division) are given, as Job builds it
#: from Spark (simpleString types).
SCHEMA = {"t": {"i": "bigint", "d": "double", "dec": "decimal(4,1)", "s": "string",
                "ts": "timestamp", "dt": "date", "dt2": "date"}}


def expr(e: str, schema: dict | None = SCHEMA, macros: dict | None = None) -> str:
    """The Spark SQL of `SELECT <e> AS v FROM t`."""
    return translate(f"SELECT {e} AS v FROM t", "test.sql", schema, macros)


def spark(e: str) -> str:
    return f"SELECT {e} AS v FROM t"


def macros_from(text: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "macros.sql"
        p.write_text(text, encoding="utf-8")
        return tr.load_macros(p)


class Rules(unittest.TestCase):
    """One or more cases per rule of FIXUPS (numbers as in the rules' docstrings)."""

    def test_every_fix_function_is_a_fixup(self):
        # A fix_* written but not listed in FIXUPS would silently never run.
        defined = {v for k, v in vars(tr).items() if k.startswith("fix_") and callable(v)}
        self.assertEqual(defined, set(tr.FIXUPS))

    def test_rule2_getvariable_is_a_session_variable(self):
        self.assertEqual(expr("getvariable('weblog_from')"), spark("system.session.weblog_from"))

    def test_rule2_unknown_variable_is_null(self):
        self.assertEqual(expr("getvariable('no_such_variable')"), spark("NULL"))

    def test_rule2_getvariable_needs_a_literal(self):
        with self.assertRaisesRegex(TranslationError, r"^test\.sql: getvariable\(\) needs a string literal"):
            expr("getvariable(s)")

    def test_rule3_row_is_struct(self):
        self.assertEqual(expr("count(DISTINCT row(s, i))"), spark("COUNT(DISTINCT STRUCT(s, i))"))

    def test_rule4_named_group(self):
        self.assertEqual(expr("regexp_matches(s, '(?P<x>a)b')"), spark("s RLIKE '(?<x>a)b'"))

    def test_rule4_regexp_replace_first_match_only(self):
        self.assertEqual(expr("regexp_replace(s, 'b', 'X')"),
                         spark("REGEXP_REPLACE(s, '(?s)^(.*?)(b)', '$1X')"))

    def test_rule4_regexp_replace_groups_shift_without_g(self):
        # \2\1\0 become $4$3$2 (the prefix is $1, the whole match $2); a literal $ is \$.
        self.assertEqual(expr(r"regexp_replace(s, '(a)(b)', '\2\1\0$')"),
                         spark(r"REGEXP_REPLACE(s, '(?s)^(.*?)((a)(b))', '$1$4$3$2\\$')"))

    def test_rule4_regexp_replace_global(self):
        self.assertEqual(expr(r"regexp_replace(s, '(b+)', '<\1>', 'g')"),
                         spark("REGEXP_REPLACE(s, '(b+)', '<$1>')"))

    def test_rule4_case_insensitive(self):
        self.assertEqual(expr("regexp_replace(s, 'B', '-', 'gi')"),
                         spark("REGEXP_REPLACE(s, '(?i)B', '-')"))

    def test_rule4_unknown_option_refused(self):
        with self.assertRaisesRegex(TranslationError, r"^test\.sql: regex option 'x' has no Spark"):
            expr("regexp_replace(s, 'b', '-', 'x')")

    def test_rule4_replacement_must_be_literal(self):
        with self.assertRaisesRegex(TranslationError, r"^test\.sql: regexp_replace needs literal"):
            expr("regexp_replace(s, 'b', s)")

    def test_rule5_quantile_cont_is_exact(self):
        self.assertEqual(expr("quantile_cont(d, 0.9)"),
                         spark("PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY d NULLS LAST)"))

    def test_rule5_quantile_disc(self):
        self.assertEqual(expr("quantile_disc(d, 0.35)"),
                         spark("PERCENTILE_DISC(0.35) WITHIN GROUP (ORDER BY d NULLS LAST)"))

    def test_rule5_within_group_kept(self):
        out = expr("percentile_disc(0.25) WITHIN GROUP (ORDER BY i DESC)")
        self.assertIn("PERCENTILE_DISC(0.25) WITHIN GROUP (ORDER BY i DESC", out)
        self.assertNotIn("APPROX", out)

    def test_rule5_list_of_fractions(self):
        self.assertEqual(expr("quantile_cont(d, [0.5, 0.9])"),
                         spark("PERCENTILE(d, ARRAY(0.5, 0.9))"))

    def test_rule5_quantile_disc_list_refused(self):
        with self.assertRaisesRegex(TranslationError, r"^test\.sql: quantile_disc with a list"):
            expr("quantile_disc(d, [0.5, 0.9])")

    def test_rule6_dayofweek_from_zero(self):
        self.assertEqual(expr("dayofweek(dt)"), spark("CAST((DAYOFWEEK(dt) - 1) AS BIGINT)"))

    def test_rule6_isodow(self):
        self.assertEqual(expr("isodow(dt)"), spark("CAST((WEEKDAY(dt) + 1) AS BIGINT)"))

    def test_rule6_epoch_is_fractional(self):
        self.assertEqual(expr("epoch(ts)"), spark("(UNIX_MICROS(CAST(ts AS TIMESTAMP)) / 1e6)"))

    def test_rule6_epoch_us_and_ms(self):
        self.assertEqual(expr("epoch_us(ts)"), spark("UNIX_MICROS(CAST(ts AS TIMESTAMP))"))
        self.assertEqual(expr("epoch_ms(ts)"), spark("UNIX_MILLIS(CAST(ts AS TIMESTAMP))"))

    def test_rule6_date_diff_counts_boundaries(self):
        self.assertEqual(expr("date_diff('hour', ts, ts)"), spark(
            "TIMESTAMPDIFF(HOUR, DATE_TRUNC('HOUR', ts), DATE_TRUNC('HOUR', ts))"))

    def test_rule6_date_diff_days_of_dates(self):
        self.assertEqual(expr("date_diff('day', dt, dt2)"), spark(
            "TIMESTAMPDIFF(DAY, DATE_TRUNC('DAY', dt), DATE_TRUNC('DAY', dt2))"))

    def test_rule6_date_diff_week_left_to_sqlglot(self):
        # sqlglot's DuckDB reader does not mark 'week' as counting boundaries, so the rule
        # leaves it: whole weeks elapsed, which for dates is DuckDB's days / 7 (check.py's
        # "rule 6: date_diff week" compares the values).
        self.assertEqual(expr("date_diff('week', dt, dt2)"), spark("DATEDIFF(WEEK, dt, dt2)"))

    def test_rule6_strlen_is_bytes(self):
        self.assertEqual(expr("strlen(s)"), spark("OCTET_LENGTH(s)"))

    def test_rule7_double_to_integer_rounds_half_even(self):
        self.assertEqual(expr("CAST(d AS BIGINT)"), spark("CAST(BROUND(d) AS BIGINT)"))

    def test_rule7_decimal_to_integer_rounds_half_away(self):
        self.assertEqual(expr("CAST(dec AS INTEGER)"), spark("CAST(ROUND(dec) AS INT)"))

    def test_rule7_integer_to_integer_untouched(self):
        self.assertEqual(expr("CAST(i AS INTEGER)"), spark("CAST(i AS INT)"))

    def test_rule7_without_types_no_rounding(self):
        # No schema: the operand's type is unknown, so nothing is rounded (as documented).
        self.assertEqual(expr("CAST(d AS BIGINT)", schema=None), spark("CAST(d AS BIGINT)"))

    def test_rule7_duckdb_only_types(self):
        self.assertEqual(expr("CAST(i AS UBIGINT)"), spark("CAST(i AS DECIMAL(20, 0))"))
        self.assertEqual(expr("i::HUGEINT"), spark("CAST(i AS DECIMAL(38, 0))"))
        self.assertEqual(expr("i::UINTEGER"), spark("CAST(i AS BIGINT)"))
        self.assertEqual(expr("s::TIMESTAMPTZ"), spark("CAST(s AS TIMESTAMP)"))

    def test_rule8_integer_division_is_floating(self):
        self.assertEqual(expr("i / 4"), spark("CAST(i AS DOUBLE) / 4"))

    def test_rule8_decimal_division_is_floating(self):
        self.assertEqual(expr("dec / 3"), spark("CAST(dec AS DOUBLE) / 3"))

    def test_rule8_double_division_untouched(self):
        self.assertEqual(expr("d / 4"), spark("d / 4"))

    def test_rule9_date_parts_are_bigint(self):
        self.assertEqual(expr("year(dt)"), spark("CAST(YEAR(dt) AS BIGINT)"))
        self.assertEqual(expr("hour(ts)"), spark("CAST(HOUR(ts) AS BIGINT)"))

    def test_rule9_epoch_extract_stays_double(self):
        self.assertNotIn("BIGINT", expr("extract(epoch FROM ts)"))

    def test_rule10_hash_is_64_bits(self):
        self.assertEqual(expr("hash(s, i)"), spark("XXHASH64(s, i)"))


class Macros(unittest.TestCase):
    """Rule 1: lib/macros.sql's macros inlined, body and arguments parenthesised."""

    M = macros_from("""
        -- comments and several statements, as in sql/lib/macros.sql
        CREATE OR REPLACE MACRO pick(a, b) AS coalesce(a, b);
        CREATE MACRO is_big(x) AS x > 10;
        CREATE TEMP MACRO big_or(x, y) AS is_big(pick(x, y));
        CREATE MACRO loop_a(x) AS loop_b(x);
        CREATE MACRO loop_b(x) AS loop_a(x);
    """)

    def test_parameters_are_replaced_by_arguments(self):
        self.assertEqual(expr("pick(s, 'none')", macros=self.M), spark("(COALESCE((s), ('none')))"))

    def test_negation_covers_the_whole_body(self):
        self.assertEqual(expr("NOT is_big(i + 1)", macros=self.M), spark("NOT ((i + 1) > 10)"))

    def test_macros_calling_macros(self):
        self.assertEqual(expr("big_or(i, 0)", macros=self.M),
                         spark("((((COALESCE(((i)), ((0))))) > 10))"))

    def test_names_are_case_insensitive(self):
        self.assertEqual(expr("PICK(s, s)", macros=self.M), spark("(COALESCE((s), (s)))"))

    def test_wrong_argument_count(self):
        with self.assertRaisesRegex(TranslationError, r"^test\.sql: macro pick\(\) takes 2 argument\(s\), got 1$"):
            expr("pick(s)", macros=self.M)

    def test_recursion_is_refused(self):
        with self.assertRaisesRegex(TranslationError, r"^test\.sql: macros nest more than 20 deep"):
            expr("loop_a(1)", macros=self.M)

    def test_only_macros_in_the_macro_file(self):
        with self.assertRaisesRegex(JobError, r"macros\.sql: only CREATE MACRO statements"):
            macros_from("CREATE MACRO m(x) AS x; SELECT 1;")

    def test_table_macros_refused(self):
        with self.assertRaisesRegex(JobError, r"macros\.sql: .*only scalar macros"):
            macros_from("CREATE MACRO m(x) AS TABLE SELECT x;")

    def test_parameter_defaults_refused(self):
        # sqlglot cannot parse DuckDB's `:=` defaults: refused, naming the file.
        with self.assertRaisesRegex(JobError, r"macros\.sql: cannot read the macros"):
            macros_from("CREATE MACRO m(x, y := 1) AS x + y;")


class Variables(unittest.TestCase):
    """The run's filters as Spark session variables, bound as weblog's `prepare` binds them."""

    def test_declarations(self):
        values = Filters(dt.date(2024, 6, 1), None, True, ("Example.org",), "it's").variables(1800)
        self.assertEqual(tr.variable_declarations(values), [
            "DECLARE OR REPLACE VARIABLE weblog_from DATE DEFAULT DATE '2024-06-01'",
            "DECLARE OR REPLACE VARIABLE weblog_to DATE DEFAULT CAST(NULL AS DATE)",
            "DECLARE OR REPLACE VARIABLE weblog_humans_only BOOLEAN DEFAULT TRUE",
            "DECLARE OR REPLACE VARIABLE weblog_vhost STRING DEFAULT 'it\\'s'",
            "DECLARE OR REPLACE VARIABLE weblog_site_hosts_re STRING DEFAULT '^(.*\\\\.)?(example\\\\.org)$'",
            "DECLARE OR REPLACE VARIABLE weblog_visit_timeout_us BIGINT DEFAULT CAST(1800000000 AS BIGINT)",
        ])

    def test_defaults_are_null_or_false(self):
        values = Filters().variables(600)
        self.assertEqual(values, {
            "weblog_from": None, "weblog_to": None, "weblog_humans_only": False,
            "weblog_vhost": None, "weblog_site_hosts_re": None,
            "weblog_visit_timeout_us": 600_000_000,
        })

    def test_site_hosts_pattern_escapes_as_rust(self):
        self.assertEqual(tr.site_hosts_pattern(["a-b.Com", "x.org"]),
                         r"^(.*\.)?(a\-b\.com|x\.org)$")
        self.assertIsNone(tr.site_hosts_pattern([]))

    def test_own_site_only_without_site_hosts(self):
        self.assertEqual(Filters().variables(1800, "www.x.org")["weblog_site_hosts_re"],
                         r"^(.*\.)?(www\.x\.org)$")
        self.assertEqual(Filters(site_hosts=("y.org",)).variables(1800, "www.x.org")["weblog_site_hosts_re"],
                         r"^(.*\.)?(y\.org)$")

    def test_variables_cover_every_declaration(self):
        self.assertEqual(list(Filters().variables(1)), list(tr.VARIABLES))


class Files(unittest.TestCase):
    """Errors name the file; weblog's own SQL folder translates."""

    def test_unsupported_construct_names_the_file(self):
        with self.assertRaisesRegex(TranslationError, r"^sql/x\.sql: no Spark translation: .*count"):
            translate("SELECT arg_max(a, b, 3) AS v FROM t", "sql/x.sql")

    def test_one_statement_per_file(self):
        with self.assertRaisesRegex(TranslationError, r"^sql/x\.sql: expected one SELECT, found 2 statements$"):
            translate("SELECT 1; SELECT 2;", "sql/x.sql")

    def test_parse_error_names_the_file(self):
        with self.assertRaisesRegex(TranslationError, r"^sql/x\.sql: cannot parse"):
            translate("SELECT (1 FROM", "sql/x.sql")

    def test_untyped_query_warns_and_still_translates(self):
        # A column the schema says its table lacks (`t.nope`) makes sqlglot's typing fail;
        # that costs only the typed rules: `d` is not known as DOUBLE any more, so its
        # division gets the cast an integer's would.
        import contextlib
        import io
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            out = translate("SELECT t.nope AS n, d / 2 AS v FROM t", "sql/u.sql", SCHEMA)
        self.assertEqual(out, "SELECT t.nope AS n, CAST(d AS DOUBLE) / 2 AS v FROM t")
        self.assertRegex(err.getvalue(), r"^weblog-spark: warning: sql/u\.sql: column types unknown")

    def test_load_sql_layout_and_names(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            (root / "lib").mkdir()
            (root / "rollups").mkdir()
            (root / "lib" / "macros.sql").write_text("CREATE MACRO m(x) AS x;")
            (root / "lib" / "source_logs.sql").write_text("SELECT * FROM logs")
            (root / "rollups" / "b.sql").write_text("SELECT day FROM source_logs")
            (root / "rollups" / "a.sql").write_text("SELECT day FROM source_logs")
            (root / "out.sql").write_text("SELECT 1 AS one")
            s = tr.load_sql(root)
            self.assertEqual([f.name for f in s.rollups], ["a", "b"])
            self.assertEqual([f.name for f in s.outputs], ["out"])
            self.assertEqual(list(s.macros), ["m"])
            self.assertIsNone(s.own_site)
            (root / "bad-name.sql").write_text("SELECT 1 AS one")
            with self.assertRaisesRegex(JobError, r"bad-name\.sql: SQL file names may hold only"):
                tr.load_sql(root)
            (root / "bad-name.sql").unlink()
            (root / "lib" / "source_logs.sql").unlink()
            with self.assertRaisesRegex(JobError, r"lib/source_logs\.sql is missing"):
                tr.load_sql(root)

    def test_weblogs_own_sql_translates(self):
        s = tr.load_sql(REPO / "sql")
        files = [s.source_logs] + ([s.own_site] if s.own_site else []) + s.rollups + s.outputs
        self.assertGreater(len(s.outputs), 0)
        for f in files:
            with self.subTest(f.origin):
                out = translate(f.sql, f.origin, None, s.macros)
                self.assertNotIn("getvariable", out.lower())
                self.assertNotIn("PERCENTILE_APPROX", out)

    def test_no_pyspark_import(self):
        # The translator must stay usable (and testable) without PySpark or a JVM.
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import wlspark.translate, "
                "wlspark.lake, wlspark.cli; print('pyspark' in sys.modules or 'py4j' in sys.modules)")
        r = subprocess.run([sys.executable, "-c", code, str(SPARK)], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "False"), r.stderr)


if __name__ == "__main__":
    unittest.main()
