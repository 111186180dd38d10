#!/usr/bin/env python3
"""weblog's outputs computed by Spark from the shared Parquet lake (see spark/README.md).

    weblog_spark.py --lake DIR --out DIR [--sql DIR] [--from DATE] [--to DATE]
                    [--humans-only] [--site-host HOST]... [--vhost HOST]
                    [--visit-timeout 30m] [--master local[2]] [--conf KEY=VALUE]...
                    [--then --out DIR [--from …] [--to …] [--humans-only] [--site-host …]
                     [--vhost …]]...

The SQL is weblog's own: every `sql/rollups/<name>.sql` becomes the temp view
`rollup_<name>` (computed over every row of the lake: no incrementality here) and every
`sql/<name>.sql` becomes `<out>/<name>.parquet` and `<out>/<name>.csv`, one file each.
Each file is translated from DuckDB's dialect to Spark SQL by sqlglot plus the fix-ups in
FIXUPS below, and weblog's macros (sql/lib/macros.sql) are expanded inline, over Spark
session variables (VARIABLES) bound from the flags as weblog binds its own.

Only the driver needs Python packages (pyspark, sqlglot): the job runs no Python UDF, so
executors run plain Spark SQL. Paths go through Hadoop's FileSystem API, so `s3a://`,
`gs://`, `hdfs://` work wherever the cluster has the connector.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark

# --------------------------------------------------------------------------------------
# What weblog defines (keep in step with src/transform `prepare`; check.py compares them).
# --------------------------------------------------------------------------------------

#: Lake schema versions this job reads (LAKE/_weblog_schema.json's "schema_version").
SCHEMA_VERSIONS = {1}

#: weblog's session variables (`SET VARIABLE name = ?::TYPE` in src/transform `prepare`)
#: and their Spark types. `getvariable('name')` becomes a reference to the Spark session
#: variable of the same name, declared with the run's value (`declare_variables`); a name
#: not listed here is NULL, as an unset variable is in DuckDB.
VARIABLES: dict[str, str] = {
    "weblog_from": "DATE",
    "weblog_to": "DATE",
    "weblog_humans_only": "BOOLEAN",
    "weblog_vhost": "STRING",
    "weblog_site_hosts_re": "STRING",
    "weblog_visit_timeout_us": "BIGINT",
}

#: The visit timeout when --visit-timeout is not given (weblog's DEFAULT_VISIT_TIMEOUT).
DEFAULT_VISIT_TIMEOUT_S = 30 * 60

#: Lake column types (`_weblog_schema.json`) -> Spark DDL types. DuckDB's names and the
#: portable names weblog writes (src/export/lake.rs: `string`, `int32`, `timestamp_utc`, …)
#: are both accepted; an unknown type makes the job infer the schema from the files instead
#: (mergeSchema), which also works, only slower on a large lake.
LAKE_TYPES = {
    "STRING": "STRING", "VARCHAR": "STRING", "TEXT": "STRING", "UTF8": "STRING",
    "INT": "INT", "INTEGER": "INT", "INT32": "INT", "INT4": "INT",
    "BIGINT": "BIGINT", "LONG": "BIGINT", "INT64": "BIGINT", "INT8": "BIGINT",
    "SMALLINT": "SMALLINT", "INT16": "SMALLINT", "TINYINT": "TINYINT",
    "DOUBLE": "DOUBLE", "FLOAT64": "DOUBLE", "FLOAT8": "DOUBLE",
    "FLOAT": "FLOAT", "REAL": "FLOAT", "FLOAT32": "FLOAT",
    "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "TIMESTAMP_TZ": "TIMESTAMP",
    "TIMESTAMP_UTC": "TIMESTAMP",
    "BLOB": "BINARY", "BINARY": "BINARY", "BYTES": "BINARY",
}

#: Partition columns of the lake (from the `day=…/host=…` path), with their types.
PARTITIONS = (("day", "DATE"), ("host", "STRING"))

NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")


class JobError(Exception):
    """An error with one clear message for the operator (no traceback)."""


# --------------------------------------------------------------------------------------
# Translation: DuckDB SQL -> Spark SQL
# --------------------------------------------------------------------------------------


class TranslationError(JobError):
    pass


class WeblogSpark(Spark):
    """sqlglot's Spark dialect, minus rewrites that are wrong for Spark 4: it turns
    `percentile_cont/percentile_disc(p) WITHIN GROUP (ORDER BY x)` into
    PERCENTILE_APPROX (an approximation); Spark 4 has the exact ordered-set aggregates."""

    class Generator(Spark.Generator):
        TRANSFORMS = {
            k: v for k, v in Spark.Generator.TRANSFORMS.items() if k is not exp.WithinGroup
        }


INTEGRAL = {
    exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT, exp.DataType.Type.UTINYINT, exp.DataType.Type.USMALLINT,
    exp.DataType.Type.UINT, exp.DataType.Type.UBIGINT, exp.DataType.Type.INT128,
    exp.DataType.Type.UINT128,
}
FLOATING = {exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE}
DECIMALS = {exp.DataType.Type.DECIMAL}
TEMPORAL = {
    exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.TIMESTAMPLTZ, exp.DataType.Type.TIMESTAMPNTZ,
    exp.DataType.Type.DATETIME,
}

#: DuckDB types Spark lacks -> the Spark type that holds every value.
TYPE_MAP = {
    exp.DataType.Type.UTINYINT: "SMALLINT",
    exp.DataType.Type.USMALLINT: "INT",
    exp.DataType.Type.UINT: "BIGINT",
    exp.DataType.Type.UBIGINT: "DECIMAL(20, 0)",
    exp.DataType.Type.INT128: "DECIMAL(38, 0)",
    exp.DataType.Type.UINT128: "DECIMAL(38, 0)",
    exp.DataType.Type.TIMESTAMPTZ: "TIMESTAMP",
}


@dataclass
class Ctx:
    """What a fix-up may consult: the file being translated and the known table schemas."""

    origin: str
    macros: dict = field(default_factory=dict)  # name -> (parameters, body)
    types: dict[int, exp.DataType] = field(default_factory=dict)  # id(node) -> type

    def type_of(self, node: exp.Expression) -> exp.DataType | None:
        t = self.types.get(id(node))
        if t is None or t.this in (exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL):
            return None
        return t

    def fail(self, what: str) -> TranslationError:
        return TranslationError(f"{self.origin}: {what}")


def _func_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return None


def _literal_str(node: exp.Expression | None) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


Macro = tuple[tuple[str, ...], exp.Expression]  # (parameters, body)


def load_macros(path: Path) -> dict[str, Macro]:
    """weblog's macros, read from `sql/lib/macros.sql` (the one place they are defined, for
    both engines): every `CREATE [OR REPLACE] [TEMP] MACRO name(params) AS expr` in it."""
    try:
        statements = sqlglot.parse(path.read_text(encoding="utf-8"), read="duckdb")
    except (OSError, sqlglot.errors.ParseError) as e:
        raise JobError(f"{path}: cannot read the macros: {e}") from None
    macros: dict[str, Macro] = {}
    for st in statements:
        if st is None:
            continue
        if not (isinstance(st, exp.Create) and str(st.args.get("kind", "")).upper() == "MACRO"):
            raise JobError(f"{path}: only CREATE MACRO statements are expected, found: "
                           f"{st.sql('duckdb')[:80]}")
        udf, body = st.this, st.expression
        if not isinstance(udf, exp.UserDefinedFunction) or body is None or isinstance(body, exp.Query):
            raise JobError(f"{path}: {st.sql('duckdb')[:80]}: only scalar macros are supported")
        name = udf.this.name if isinstance(udf.this, exp.Expression) else str(udf.this)
        params = []
        for p in udf.expressions:
            if not isinstance(p, exp.Identifier):
                raise JobError(f"{path}: macro {name}: parameter defaults are not supported")
            params.append(p.name.lower())
        macros[name.lower()] = (tuple(params), body)
    return macros


def expand_macros(tree: exp.Expression, ctx: Ctx, depth: int = 0) -> exp.Expression:
    """Rule 1 (macros): a call `name(args)` of a macro of lib/macros.sql is replaced by the
    macro's body (parenthesised) with each parameter replaced by its argument (parenthesised
    too), recursively
    (a macro may call macros). Inlining, not a Spark SQL function: a DuckDB macro is
    untyped, so `pick(a, b)` works on any column type, and an argument may be an aggregate."""
    if depth > 20:
        raise ctx.fail("macros nest more than 20 deep (recursive macro?)")

    def repl(node: exp.Expression) -> exp.Expression:
        name = _func_name(node)
        if name not in ctx.macros:
            return node
        params, body = ctx.macros[name]
        args = list(node.expressions)
        if len(args) != len(params):
            raise ctx.fail(f"macro {name}() takes {len(params)} argument(s), got {len(args)}")
        binding = dict(zip(params, args))

        def subst(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and not n.table and n.name.lower() in binding:
                return exp.Paren(this=binding[n.name.lower()].copy())
            return n

        # Parenthesised as a whole too: `NOT m(x)` must negate all of m's body.
        return exp.Paren(this=expand_macros(body.copy().transform(subst), ctx, depth + 1))

    return tree.transform(repl)


def fix_getvariable(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 2 (variables): getvariable('name') -> the Spark session variable
    `system.session.name`; a name not in VARIABLES is NULL (DuckDB: an unset variable)."""
    if _func_name(node) != "getvariable":
        return node
    name = _literal_str(node.expressions[0]) if len(node.expressions) == 1 else None
    if name is None:
        raise ctx.fail("getvariable() needs a string literal")
    if name not in VARIABLES:
        return exp.Null()
    return exp.Column(
        this=exp.to_identifier(name), table=exp.to_identifier("session"),
        db=exp.to_identifier("system"),
    )


def fix_row(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 3: DuckDB's row(a, b) (an unnamed struct) -> struct(a, b). A struct is never
    NULL, so count(DISTINCT row(a, b)) counts pairs with NULL members, in both engines."""
    if _func_name(node) == "row":
        return exp.Struct(expressions=list(node.expressions))
    return node


_REGEX_FUNCS = (exp.RegexpExtract, exp.RegexpLike, exp.RegexpReplace, exp.RegexpSplit,
                exp.RegexpExtractAll, exp.RegexpILike)


def _java_regex(pattern: str) -> str:
    # RE2 named groups (?P<name>…) are (?<name>…) in Java.
    return pattern.replace("(?P<", "(?<")


def fix_regex(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 4 (regular expressions): RE2 and Java agree on the syntax weblog uses; named
    groups `(?P<n>` become `(?<n>`. regexp_replace: DuckDB replaces the first match unless
    the options hold 'g' (Spark always replaces all), and its replacement refers to groups
    as \\1 (Java: $1) with `$` literal. Without 'g' the pattern becomes `^(.*?)(P)` and
    the replacement `$1R` with R's groups shifted by 2: the leftmost match, once. Option
    'i' becomes the inline flag (?i) ('c' and 's' are the default); others are refused."""
    if not isinstance(node, _REGEX_FUNCS):
        return node
    pattern_arg = "expression"
    pat = _literal_str(node.args.get(pattern_arg))
    flags = ""
    mods = node.args.get("modifiers") or node.args.get("flag")
    if mods is not None:
        m = _literal_str(mods)
        if m is None:
            raise ctx.fail("regex options must be a string literal")
        for ch in m:
            if ch == "i":
                flags = "(?i)"
            elif ch in "csg":
                pass
            else:
                raise ctx.fail(f"regex option {ch!r} has no Spark counterpart")
        node.set("modifiers", None)
        node.set("flag", None)
    if isinstance(node, exp.RegexpReplace):
        glob = mods is not None and "g" in (_literal_str(mods) or "")
        rep = _literal_str(node.args.get("replacement"))
        if pat is None or rep is None:
            raise ctx.fail("regexp_replace needs literal pattern and replacement to translate")
        shift = 0 if glob else 2  # without 'g': $1 is the prefix, $2 the match
        out, i = [], 0
        while i < len(rep):
            c = rep[i]
            if c == "\\" and i + 1 < len(rep) and rep[i + 1].isdigit():
                out.append("$" + str(int(rep[i + 1]) + shift))
                i += 2
                continue
            if c == "\\" and i + 1 < len(rep):
                out.append("\\" + rep[i + 1] if rep[i + 1] in "\\$" else rep[i + 1])
                i += 2
                continue
            out.append("\\$" if c == "$" else c)
            i += 1
        new_pat = _java_regex(pat)
        new_rep = "".join(out)
        if not glob:
            new_pat = f"(?s)^(.*?)({new_pat})"
            new_rep = "$1" + new_rep
        node.set(pattern_arg, exp.Literal.string(flags + new_pat))
        node.set("replacement", exp.Literal.string(new_rep))
        node.set("single_replace", None)
        return node
    if pat is not None:
        node.set(pattern_arg, exp.Literal.string(flags + _java_regex(pat)))
    elif flags:
        node.set(pattern_arg, exp.Concat(expressions=[exp.Literal.string(flags), node.args[pattern_arg]]))
    return node


def fix_percentiles(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 5 (quantiles): quantile_cont(x, p) / quantile_disc(x, p) / quantile(x, p) ->
    percentile_cont(p) / percentile_disc(p) WITHIN GROUP (ORDER BY x), Spark 4's exact
    ordered-set aggregates (sqlglot would emit the approximate PERCENTILE_APPROX); a list of
    fractions -> percentile(x, array(…)) (exact, continuous). median(x) is the same in both."""
    if isinstance(node, exp.WithinGroup):
        return node
    if isinstance(node, (exp.PercentileCont, exp.PercentileDisc, exp.Quantile)):
        if isinstance(node.parent, exp.WithinGroup):
            return node
        x = node.this
        p = node.args.get("expression") or node.args.get("quantile")
        if p is None:
            raise ctx.fail(f"{node.sql('duckdb')}: a quantile needs its fraction")
        if isinstance(p, exp.Array):
            if isinstance(node, exp.PercentileCont):
                return exp.Anonymous(this="PERCENTILE", expressions=[x, p])
            raise ctx.fail("quantile_disc with a list of fractions has no exact Spark form")
        cls = exp.PercentileCont if isinstance(node, exp.PercentileCont) else exp.PercentileDisc
        return exp.WithinGroup(
            this=cls(this=p), expression=exp.Order(expressions=[exp.Ordered(this=x, nulls_first=False)])
        )
    return node


#: DuckDB's date parts are BIGINT; Spark's are INT.
_DATE_PARTS = tuple(c for c in (getattr(exp, n, None) for n in (
    "Year", "Month", "Day", "Hour", "Minute", "Second", "DayOfWeek", "DayOfWeekIso", "DayOfMonth",
    "DayOfYear", "WeekOfYear", "Quarter", "Week", "Extract")) if c is not None)


def fix_date_part_types(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 9 (date part types): year(), hour(), isodow(), extract(…) and the other date
    parts are BIGINT in DuckDB and INT in Spark: cast to BIGINT, so outputs keep weblog's
    column types (extract(epoch …), a DOUBLE, is left alone)."""
    if _func_name(node) in ("date_part", "datepart") and node.expressions:
        part = _literal_str(node.expressions[0]) or ""
        if not part.lower().startswith("epoch"):
            return exp.Cast(this=node, to=exp.DataType.build("BIGINT"))
        return node
    if isinstance(node, _DATE_PARTS):
        if isinstance(node, exp.Extract) and node.this.name.lower().startswith("epoch"):
            return node
        return exp.Cast(this=node, to=exp.DataType.build("BIGINT"))
    return node


def fix_dates(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 6 (date parts): dayofweek is 0 = Sunday in DuckDB, 1 = Sunday in Spark;
    isodow (1 = Monday … 7) is weekday(x) + 1; epoch(x) is fractional seconds
    (unix_micros / 1e6; Spark's unix_timestamp truncates), epoch_us/epoch_ms(t) are
    unix_micros/unix_millis; date_diff(unit, a, b) counts unit
    boundaries crossed in DuckDB, whole units elapsed in Spark: both ends are truncated to
    the unit first (to the day for 'week', which DuckDB counts as days / 7); strlen is
    bytes (octet_length)."""
    if isinstance(node, exp.DayOfWeek):
        return exp.Paren(this=exp.Sub(this=exp.Anonymous(this="DAYOFWEEK", expressions=[node.this]),
                                      expression=exp.Literal.number(1)))
    if isinstance(node, exp.DayOfWeekIso):
        return exp.Paren(this=exp.Add(this=exp.Anonymous(this="WEEKDAY", expressions=[node.this]),
                                      expression=exp.Literal.number(1)))
    name = _func_name(node)
    if name in ("epoch_us", "epoch_ms", "epoch_ns") and len(node.expressions) == 1:
        arg = node.expressions[0]
        if name == "epoch_ns":
            return exp.Mul(this=exp.Anonymous(this="UNIX_MICROS", expressions=[exp.cast(arg, "TIMESTAMP")]),
                           expression=exp.Literal.number(1000))
        return exp.Anonymous(this="UNIX_MICROS" if name == "epoch_us" else "UNIX_MILLIS",
                             expressions=[exp.cast(arg, "TIMESTAMP")])
    if isinstance(node, exp.UnixToTime) and str(node.text("scale")) == "3":
        t = ctx.type_of(node.this)
        if t is not None and t.this in TEMPORAL:  # epoch_ms(timestamp): milliseconds
            return exp.Anonymous(this="UNIX_MILLIS", expressions=[exp.cast(node.this, "TIMESTAMP")])
    if isinstance(node, exp.TimeToUnix):
        micros = exp.Anonymous(this="UNIX_MICROS", expressions=[exp.cast(node.this, "TIMESTAMP")])
        return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number("1e6")))
    if isinstance(node, exp.DateDiff) and node.args.get("date_part_boundary"):
        unit = (node.text("unit") or "DAY").upper()
        trunc = "DAY" if unit == "WEEK" else unit
        def t(e):
            return exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string(trunc), e])
        return exp.Anonymous(this="TIMESTAMPDIFF", expressions=[exp.var(unit), t(node.expression), t(node.this)])
    if _func_name(node) == "strlen":
        return exp.Anonymous(this="OCTET_LENGTH", expressions=list(node.expressions))
    return node


def fix_hash(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 10 (hashes): DuckDB's hash(a, …) is 64 bits; Spark's hash() is 32 (Murmur3), so
    keys built from it collide (two visitors of a big site would become one). Spark's
    64-bit xxhash64 keeps them apart; the values differ from DuckDB's, which no output
    shows (they only group and partition)."""
    if _func_name(node) == "hash":
        return exp.Anonymous(this="XXHASH64", expressions=list(node.expressions))
    return node


def fix_casts(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 7 (casts): DuckDB rounds when casting a fraction to an integer (DOUBLE/FLOAT
    half to even, DECIMAL half away from zero); Spark truncates. When the operand's type is
    known to be fractional the operand is wrapped in bround()/round(). DuckDB-only types
    become the Spark type that holds them (UBIGINT -> DECIMAL(20,0), HUGEINT ->
    DECIMAL(38,0), UINTEGER -> BIGINT, …; TIMESTAMPTZ -> TIMESTAMP, an instant in both)."""
    if not isinstance(node, exp.Cast):
        return node
    to = node.to
    if to.this in INTEGRAL:
        t = ctx.type_of(node.this)
        if t is not None and t.this in FLOATING:
            node.set("this", exp.Anonymous(this="BROUND", expressions=[node.this]))
        elif t is not None and t.this in DECIMALS:
            node.set("this", exp.Anonymous(this="ROUND", expressions=[node.this]))
    if to.this in TYPE_MAP:
        node.set("to", exp.DataType.build(TYPE_MAP[to.this], dialect="spark"))
    return node


def fix_division(node: exp.Expression, ctx: Ctx) -> exp.Expression:
    """Rule 8 (division): DuckDB's `/` is floating-point division (DOUBLE for integers and
    decimals); Spark divides decimals as DECIMAL. The dividend is cast to DOUBLE unless it
    is already floating or an interval. (Division by zero: DuckDB gives ±inf/NaN, Spark's
    ANSI mode raises an error: write `a / nullif(b, 0)`, NULL in both.)"""
    if isinstance(node, exp.Div) and not node.args.get("typed"):
        t = ctx.type_of(node.this)
        if t is not None and (t.this in FLOATING or t.this == exp.DataType.Type.INTERVAL):
            return node
        if isinstance(node.this, exp.Cast) and node.this.to.this == exp.DataType.Type.DOUBLE:
            return node
        node.set("this", exp.cast(node.this, "DOUBLE"))
    return node


#: The fix-ups, applied in order to every node (after macro expansion). Each is a general
#: rule about a DuckDB/Spark difference that sqlglot's own translation leaves; documented in
#: its docstring. Things sqlglot already gets right are not repeated here: regexp_extract's
#: default group (0 in DuckDB, 1 in Spark), NULLS LAST as DuckDB's default order, QUALIFY
#: (→ a subquery), `::` casts, backslashes in string literals, split_part, strpos.
FIXUPS = (fix_casts, fix_division, fix_getvariable, fix_row, fix_regex, fix_percentiles,
          fix_date_part_types, fix_dates, fix_hash)


def apply_rule(tree: exp.Expression, rule, ctx: Ctx) -> exp.Expression:
    """Apply `rule` to every node of `tree`, each node after its descendants (so a rule
    sees its arguments already fixed), in place (the node ids the types are keyed by stay
    valid); nodes a rule creates are not visited again by that rule."""
    for node in reversed(list(tree.walk(bfs=False))):
        parent, key, index = node.parent, node.arg_key, node.index
        new = rule(node, ctx)  # may make `node` a child of `new`: its old place is kept above
        if new is not node:
            if node is tree or parent is None:
                tree = new
            else:
                parent.set(key, new, index)
    return tree


def _annotate(tree: exp.Expression, schema: dict | None) -> dict[int, exp.DataType]:
    """Types of the nodes of `tree` (id -> type), from sqlglot's type annotation of a
    qualified copy against `schema`. Best effort: {} when sqlglot cannot qualify the query."""
    if not schema:
        return {}
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    originals = {}
    for i, n in enumerate(tree.walk()):
        n.meta["weblog_id"] = i
        originals[i] = n
    try:
        copy = tree.copy()
        copy = qualify(copy, schema=schema, dialect="duckdb", validate_qualify_columns=False,
                       quote_identifiers=False, identify=False)
        copy = annotate_types(copy, schema=schema, dialect="duckdb")
    except Exception:  # noqa: BLE001 - typing is an optimisation of the rules, never fatal
        return {}
    out = {}
    for n in copy.walk():
        i = n.meta.get("weblog_id") if n.meta else None
        if i is not None and i in originals and getattr(n, "type", None) is not None:
            out[id(originals[i])] = n.type
    return out


def translate(sql: str, origin: str = "<sql>", schema: dict | None = None,
              macros: dict | None = None) -> str:
    """One of weblog's SQL files (a single SELECT, maybe with comments and a trailing `;`)
    in Spark SQL. `schema` ({table: {column: type}}) lets the type-dependent rules apply;
    `macros` (load_macros) are expanded."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as e:
        raise TranslationError(f"{origin}: cannot parse: {e}") from None
    if len(statements) != 1:
        raise TranslationError(f"{origin}: expected one SELECT, found {len(statements)} statements")
    ctx = Ctx(origin=origin, macros=macros or {})
    tree = expand_macros(statements[0], ctx)
    ctx.types = _annotate(tree, schema)
    for rule in FIXUPS:
        tree = apply_rule(tree, rule, ctx)
    try:
        return tree.sql(dialect=WeblogSpark, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as e:
        raise TranslationError(f"{origin}: no Spark translation: {e}") from None


# --------------------------------------------------------------------------------------
# The SQL files
# --------------------------------------------------------------------------------------


@dataclass
class SqlFile:
    name: str
    sql: str
    origin: str


@dataclass
class SqlSet:
    rollups: list[SqlFile]
    outputs: list[SqlFile]
    macros: dict  # lib/macros.sql, parsed
    source_logs: SqlFile  # lib/source_logs.sql
    own_site: SqlFile | None  # lib/own_site.sql


def load_sql(sql_dir: Path) -> SqlSet:
    """The SQL as src/transform `load` reads it: `rollups/*.sql` and `*.sql` in name order,
    and `lib/` (macros.sql, source_logs.sql, own_site.sql)."""

    def read(d: Path) -> list[SqlFile]:
        if not d.is_dir():
            raise JobError(f"SQL folder {d} does not exist")
        out = []
        for p in sorted(d.glob("*.sql")):
            if not p.is_file():
                continue
            if not NAME_RE.match(p.stem):
                raise JobError(f"{p}: SQL file names may hold only letters, digits and _")
            out.append(SqlFile(p.stem, p.read_text(encoding="utf-8"), str(p)))
        return out

    lib = {f.name: f for f in read(sql_dir / "lib")}
    for need in ("macros", "source_logs"):
        if need not in lib:
            raise JobError(f"{sql_dir}: lib/{need}.sql is missing")
    return SqlSet(read(sql_dir / "rollups"), read(sql_dir),
                  load_macros(Path(lib["macros"].origin)), lib["source_logs"], lib.get("own_site"))


# --------------------------------------------------------------------------------------
# Spark
# --------------------------------------------------------------------------------------


#: JVM flags for a short local run on a small lake: the C1 compiler only (C2's compiling
#: is most of the CPU a few-minute JVM spends, and this job is many small queries), a
#: code cache big enough for that, the serial collector (no GC threads to feed).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m -XX:+UseSerialGC"


def local_lake_is_small(lake: str) -> bool:
    """Whether `lake` is a local folder holding less than SMALL_LAKE_BYTES of data files
    (stops counting once past it); False for any other file system."""
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", lake)
    if m and m[1].lower() != "file":
        return False
    root = Path(re.sub(r"^file:(//)?", "", lake)) / "logs"
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
        for f in filenames:
            if not f.startswith((".", "_")):
                try:
                    total += os.path.getsize(os.path.join(dirpath, f))
                except OSError:
                    pass
        if total >= SMALL_LAKE_BYTES:
            return False
    return True


def build_session(master: str | None, extra_conf: list[str] = (), app: str = "weblog-spark",
                  quick_jvm: bool = False):
    """One SparkSession. Under spark-submit (the JVM is already up), what the operator set
    (--conf, spark-defaults.conf) wins over the defaults below; run as a plain Python
    program, the job launches its own JVM: local[2] unless --master says otherwise, with
    QUICK_JVM's flags when `quick_jvm` (a small local lake)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    if submitted:
        SparkContext._ensure_initialized()  # connect to spark-submit's JVM to read its conf
    conf = SparkConf()
    master = master or conf.get("spark.master", None) or "local[2]"
    local = master.startswith("local")
    defaults = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
        "spark.hadoop.parquet.summary.metadata.level": "NONE",
    }
    if local:
        here = Path(__file__).resolve().parent
        defaults.update({
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "4",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.extraJavaOptions":
                f"-Dlog4j2.configurationFile=file:{here / 'log4j2.properties'}"
                + (f" {QUICK_JVM}" if quick_jvm else ""),
        })
    user = {}
    for kv in extra_conf:
        k, sep, v = kv.partition("=")
        if not sep:
            raise JobError(f"--conf {kv!r}: expected KEY=VALUE")
        user[k] = v
    builder = SparkSession.builder.appName(app).master(master)
    for k, v in defaults.items():
        if not (submitted and conf.contains(k)):
            builder = builder.config(k, v)
    for k, v in user.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # PySpark logs each failed query as JSON on stderr; the job reports errors itself.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


class Fs:
    """Hadoop FileSystem calls through py4j (works for file:, hdfs:, s3a:, gs:, abfs: …)."""

    def __init__(self, spark):
        self.spark = spark
        self.jvm = spark._jvm
        self.conf = spark._jsc.hadoopConfiguration()

    def path(self, p: str):
        return self.jvm.org.apache.hadoop.fs.Path(p)

    def fs(self, p):
        return p.getFileSystem(self.conf)

    def exists(self, p: str) -> bool:
        hp = self.path(p)
        return self.fs(hp).exists(hp)

    def read_text(self, p: str) -> str:
        hp = self.path(p)
        stream = self.fs(hp).open(hp)
        try:
            return self.jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()

    def mkdirs(self, p: str) -> None:
        hp = self.path(p)
        self.fs(hp).mkdirs(hp)

    def delete(self, p: str, recursive: bool = True) -> None:
        hp = self.path(p)
        fs = self.fs(hp)
        if fs.exists(hp):
            fs.delete(hp, recursive)

    def list(self, p: str) -> list[str]:
        hp = self.path(p)
        return [s.getPath().getName() for s in self.fs(hp).listStatus(hp)]

    def replace(self, src: str, dst: str) -> None:
        """Move src over dst. Atomic where the file system renames atomically over an
        existing file (local, HDFS via FileContext); elsewhere (object stores, where a
        rename is a copy) dst is deleted first, and each object is written whole anyway."""
        s, d = self.path(src), self.path(dst)
        fs = self.fs(d)
        try:
            fc = self.jvm.org.apache.hadoop.fs.FileContext.getFileContext(d.toUri(), self.conf)
            opts = self.jvm.org.apache.hadoop.fs.Options.Rename
            arr = self.spark.sparkContext._gateway.new_array(opts, 1)
            arr[0] = opts.OVERWRITE
            fc.rename(s, d, arr)
            return
        except Exception:  # noqa: BLE001 - no AbstractFileSystem for this scheme: plain rename
            pass
        if fs.exists(d):
            fs.delete(d, False)
        if not fs.rename(s, d):
            raise JobError(f"cannot rename {src} to {dst}")


def read_lake(spark, fs: Fs, lake: str):
    """The lake's rows as a DataFrame: `day` DATE and `host` STRING from the partition
    path; every other column by name, typed by _weblog_schema.json (a file lacking a column
    reads it as NULL; columns the schema does not list are ignored)."""
    lake = lake.rstrip("/")
    schema_path = f"{lake}/_weblog_schema.json"
    if not fs.exists(schema_path):
        raise JobError(f"{schema_path} not found: {lake} is not a weblog lake")
    try:
        meta = json.loads(fs.read_text(schema_path))
    except ValueError as e:
        raise JobError(f"{schema_path}: not valid JSON ({e})") from None
    version = meta.get("schema_version") if isinstance(meta, dict) else None
    if version not in SCHEMA_VERSIONS:
        raise JobError(
            f"{schema_path}: lake schema_version {version!r} is not supported by this job "
            f"(it reads {sorted(SCHEMA_VERSIONS)}); use the weblog_spark.py of the weblog "
            "release that wrote the lake"
        )
    columns = meta.get("columns") or []
    part_names = {n for n, _ in PARTITIONS}
    ddl, known = [], True
    for col in columns:
        name, typ = col.get("name"), str(col.get("type", "")).strip().upper()
        if not name or name in part_names:
            continue
        spark_type = LAKE_TYPES.get(typ)
        if spark_type is None:
            m = re.fullmatch(r"DECIMAL\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", typ)
            spark_type = f"DECIMAL({m[1]},{m[2]})" if m else None
        if spark_type is None:
            known = False
            break
        ddl.append(f"`{name}` {spark_type}")
    ddl += [f"`{n}` {t}" for n, t in PARTITIONS]
    logs = f"{lake}/logs"
    reader = spark.read.option("basePath", logs)
    if known and columns:
        reader = reader.schema(", ".join(ddl))
        if not fs.exists(logs):
            return spark.createDataFrame([], ", ".join(ddl))
        return reader.parquet(logs)
    print(f"weblog-spark: {schema_path} has types this job does not know; inferring the "
          "schema from the files", file=sys.stderr)
    df = reader.option("mergeSchema", "true").parquet(logs)
    return df.withColumn("day", df["day"].cast("date")).withColumn("host", df["host"].cast("string"))


def sql_literal(value, spark_type: str) -> str:
    if value is None:
        return f"CAST(NULL AS {spark_type})"
    if spark_type == "DATE":
        return f"DATE '{value.isoformat()}'"
    if spark_type == "BOOLEAN":
        return "TRUE" if value else "FALSE"
    if spark_type == "BIGINT":
        return f"CAST({int(value)} AS BIGINT)"
    return exp.Literal.string(str(value)).sql(dialect="spark")


def declare_variables(spark, values: dict) -> None:
    """The run's values, bound as weblog binds them (src/transform `prepare`)."""
    for name, spark_type in VARIABLES.items():
        spark.sql(
            f"DECLARE OR REPLACE VARIABLE {name} {spark_type} "
            f"DEFAULT {sql_literal(values.get(name), spark_type)}"
        )


def rust_regex_escape(s: str) -> str:
    """Rust's regex::escape (what weblog applies to each --site-host)."""
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$#&-~" else c for c in s)


def site_hosts_pattern(hosts) -> str | None:
    """The one pattern `is_site_host` matches, as weblog's set_site_hosts builds it."""
    if not hosts:
        return None
    return "^(.*\\.)?(" + "|".join(rust_regex_escape(h.lower()) for h in hosts) + ")$"


#: Below this much Parquet (Spark's estimate), the lake counts as small (see Job): about
#: 250,000 rows (~30 bytes a row). The short-run tuning is for lakes of a few thousand rows
#: per query; at 128 MB it also caught a 2 M-row lake (59 MB), which then ran C1-compiled,
#: without code generation, on one shuffle partition: 495 s (bench/NOTES.md).
SMALL_LAKE_BYTES = 8 * 1024 * 1024


def lake_bytes(df) -> int:
    """Spark's size estimate of a DataFrame read from files (their total size)."""
    try:
        return int(str(df._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()))
    except Exception:  # noqa: BLE001 - an estimate only
        return 1 << 62


def spark_schema(df) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}


CSV_FORMULA = r"^[=+\-@\t\r]"


def write_single(spark, fs: Fs, df, out: str, name: str) -> list[str]:
    """`<out>/<name>.parquet` and `<out>/<name>.csv`, one file each, same columns as
    weblog's: each written by Spark into a `.`-named temp folder (ignored by readers), then
    its one part file renamed into place, then the folder removed."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    df = df.persist()
    written = []
    try:
        # CSV cells a spreadsheet would run as a formula get a leading ' (as weblog does).
        csv_df = df.select([
            F.when(F.col(f"`{f.name}`").rlike(CSV_FORMULA), F.concat(F.lit("'"), F.col(f"`{f.name}`")))
            .otherwise(F.col(f"`{f.name}`")).alias(f.name)
            if isinstance(f.dataType, StringType) else F.col(f"`{f.name}`")
            for f in df.schema.fields
        ])
        for ext, frame in (("parquet", df), ("csv", csv_df)):
            tmp = f"{out}/.spark-{name}.{ext}.tmp-{uuid.uuid4().hex[:12]}"
            w = frame.coalesce(1).write.mode("overwrite")
            if ext == "parquet":
                w.option("compression", "zstd").parquet(tmp)
            else:
                (w.option("header", "true").option("quote", '"').option("escape", '"')
                 .option("nullValue", "").option("emptyValue", '""')
                 .option("ignoreLeadingWhiteSpace", "false").option("ignoreTrailingWhiteSpace", "false")
                 .option("dateFormat", "yyyy-MM-dd")
                 .option("timestampFormat", "yyyy-MM-dd HH:mm:ss.SSSSSSx")
                 .option("lineSep", "\n").csv(tmp))
            parts = [n for n in fs.list(tmp) if n.startswith("part-")]
            if len(parts) != 1:
                raise JobError(f"{name}.{ext}: Spark wrote {len(parts)} part files, expected 1")
            target = f"{out}/{name}.{ext}"
            fs.replace(f"{tmp}/{parts[0]}", target)
            fs.delete(tmp)
            fs.delete(f"{out}/.{name}.{ext}.crc", False)  # the local FS's checksum side file
            written.append(target)
    finally:
        df.unpersist()
    return written


@dataclass
class Filters:
    """--from/--to/--humans-only/--site-host/--vhost, as weblog's OutputFilter."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    humans_only: bool = False
    site_hosts: tuple[str, ...] = ()
    vhost: str | None = None

    def variables(self, visit_timeout_s: float, own_site: str | None = None) -> dict:
        return {
            "weblog_from": self.date_from,
            "weblog_to": self.date_to,
            "weblog_humans_only": self.humans_only,
            "weblog_vhost": self.vhost,
            "weblog_site_hosts_re": site_hosts_pattern(
                self.site_hosts or ([own_site] if own_site else [])),
            "weblog_visit_timeout_us": round(visit_timeout_s * 1_000_000),
        }


class Job:
    """The lake registered as `logs`, lib/source_logs.sql as `source_logs`, every rollup as
    a cached temp view `rollup_<name>` (computed over all rows, once), then the outputs for
    any filters. The visit timeout is the rollups' parameter, so it is the Job's."""

    def __init__(self, spark, lake: str, sql_dir: Path, visit_timeout_s: float = DEFAULT_VISIT_TIMEOUT_S,
                 show_sql: bool = False, parallel: int = 3):
        self.spark, self.fs, self.show_sql, self.parallel = spark, Fs(spark), show_sql, parallel
        self.visit_timeout_s = visit_timeout_s
        self._translated: dict[str, str] = {}
        self.sqlset = load_sql(sql_dir)
        self.rollups, self.outputs = self.sqlset.rollups, self.sqlset.outputs
        logs = read_lake(spark, self.fs, lake)
        logs.createOrReplaceTempView("logs")
        self.schema = {"logs": spark_schema(logs)}
        declare_variables(spark, Filters().variables(visit_timeout_s))
        src = self.sqlset.source_logs
        source = spark.sql(self.translate(src))
        self.small = lake_bytes(logs) < SMALL_LAKE_BYTES
        if self.small:
            # A small lake: every rollup reads source_logs, so keep it in memory once; skip
            # whole-stage code generation, which costs more than it saves on a few thousand
            # rows per query (many small queries: compiling dominates); in local mode, one
            # shuffle partition (adaptive execution still coalesces and splits as needed).
            source = source.persist()
            spark.conf.set("spark.sql.codegen.wholeStage", "false")
            if self.fs.spark.sparkContext.master.startswith("local"):
                spark.conf.set("spark.sql.shuffle.partitions", "1")
        source.createOrReplaceTempView("source_logs")
        self.schema["source_logs"] = spark_schema(spark.table("source_logs"))
        for f in self.rollups:
            df = self.sql(f)
            if "day" not in [c.lower() for c in df.columns]:
                raise JobError(f"{f.origin}: a rollup must return a `day` column")
            df = df.persist()
            df.createOrReplaceTempView(f"rollup_{f.name}")
            self.schema[f"rollup_{f.name}"] = spark_schema(df)

    def translate(self, f: SqlFile) -> str:
        if f.origin not in self._translated:  # the SQL does not depend on the filters
            q = translate(f.sql, f.origin, self.schema, self.sqlset.macros)
            if self.show_sql:
                print(f"-- {f.origin}\n{q}\n", file=sys.stderr)
            self._translated[f.origin] = q
        return self._translated[f.origin]

    def sql(self, f: SqlFile):
        q = self.translate(f)
        try:
            return self.spark.sql(q)
        except Exception as e:  # noqa: BLE001 - AnalysisException and friends: one line
            raise JobError(f"{f.origin}: {_one_line(e)}\n  Spark SQL: {q}") from None

    def own_site(self, filters: Filters) -> str | None:
        """lib/own_site.sql's host when no --site-host is given (weblog's detect_own_site)."""
        if filters.site_hosts or self.sqlset.own_site is None:
            return None
        rows = self.sql(self.sqlset.own_site).collect()
        return rows[0][0] if rows else None

    def write_outputs(self, out: str, filters: Filters, quiet: bool = False) -> list[str]:
        declare_variables(self.spark, filters.variables(self.visit_timeout_s))
        own = self.own_site(filters)
        if own is not None:
            declare_variables(self.spark, filters.variables(self.visit_timeout_s, own))
            if not quiet:
                print(f"weblog-spark: the site's own host (most referrals): {own}")
        out = out.rstrip("/")
        self.fs.mkdirs(out)
        for name in self.fs.list(out):  # what a killed run of this job left behind
            if name.startswith(".spark-") and ".tmp-" in name:
                self.fs.delete(f"{out}/{name}")

        def one(f: SqlFile) -> tuple[list[str], float]:
            t = time.monotonic()
            df = self.sql(f)
            try:
                return write_single(self.spark, self.fs, df, out, f.name), time.monotonic() - t
            except JobError:
                raise
            except Exception as e:  # noqa: BLE001
                raise JobError(f"{f.origin}: {_one_line(e)}") from None

        # Several small outputs at once keep both cores busy (each alone is mostly driver
        # and scheduling latency); Spark runs jobs from several threads side by side.
        written = []
        with ThreadPoolExecutor(max_workers=max(1, self.parallel)) as pool:
            for f, (files, secs) in zip(self.outputs, pool.map(one, self.outputs)):
                written += files
                if not quiet:
                    print(f"weblog-spark: {f.name} ({secs:.1f}s)")
        return written


def run(args) -> int:
    t0 = time.monotonic()
    sql_dir = Path(args.sql) if args.sql else Path(__file__).resolve().parent.parent / "sql"
    load_sql(sql_dir)  # fail on a bad SQL folder before starting a JVM
    master = args.master or ("local[2]" if "PYSPARK_GATEWAY_PORT" not in os.environ else None)
    quick = bool(master and master.startswith("local") and local_lake_is_small(args.lake))
    spark = build_session(args.master, args.conf, quick_jvm=quick)
    t_session = time.monotonic() - t0
    try:
        job = Job(spark, args.lake, sql_dir, args.visit_timeout, args.show_sql, args.parallel)
        for one in [args] + args.then:
            filters = Filters(one.date_from, one.date_to, one.humans_only,
                              tuple(one.site_host or ()), one.vhost)
            job.write_outputs(one.out, filters, args.quiet)
            if not args.quiet:
                print(f"weblog-spark: {len(job.outputs)} outputs from {len(job.rollups)} rollups "
                      f"in {time.monotonic() - t0:.1f}s (Spark session {t_session:.1f}s) -> {one.out}")
    finally:
        spark.stop()
    return 0


def _one_line(e: Exception) -> str:
    """Spark's message without the plan dump and JVM stack that follow its first line."""
    s = str(e).strip().split("\nJVM stacktrace:")[0].split("\n")[0]
    return " ".join(s.split())[:1500]


def duration(s: str) -> float:
    """Seconds, from a duration as weblog writes it: 30, 5s, 500ms, 2m, 1h, 1d."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m|h|d)?\s*", s)
    try:
        n = float(m[1]) if m else None
    except ValueError:
        n = None
    if n is None:
        raise argparse.ArgumentTypeError(f"{s!r} is not a duration like 30, 5s, 500ms, 2m or 1h")
    secs = n * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
    if secs > 7 * 86400:
        raise argparse.ArgumentTypeError(f"{s!r} is longer than a week")
    return secs


def parse_args(argv=None):
    def date(s: str) -> dt.date:
        try:
            return dt.date.fromisoformat(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None

    def output_set(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--out", required=True, help="where <name>.parquet and <name>.csv go")
        p.add_argument("--from", dest="date_from", type=date, help="first day (YYYY-MM-DD)")
        p.add_argument("--to", dest="date_to", type=date, help="last day (YYYY-MM-DD)")
        p.add_argument("--humans-only", action="store_true", help="leave bots out")
        p.add_argument("--site-host", action="append", metavar="HOST",
                       help="the site's own host (repeatable): left out of referrers")
        p.add_argument("--vhost", help="one virtual host's traffic only")
        return p

    # Each `--then` starts another set of outputs over the same session and rollups: a
    # further set costs its outputs' queries only, not a JVM, the lake's reading and the
    # rollups again (about a third of a whole run on a small lake).
    argv = list(sys.argv[1:] if argv is None else argv)
    sets = [[]]
    for a in argv:
        if a == "--then":
            sets.append([])
        else:
            sets[-1].append(a)
    p = output_set(argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="--then --out DIR [--from/--to/--humans-only/--site-host/--vhost]: one more "
               "set of outputs, with its own filters, in the same session (repeatable)"))
    p.add_argument("--lake", required=True, help="the lake (holds logs/ and _weblog_schema.json)")
    p.add_argument("--sql", help="weblog's SQL folder (default: sql/ beside spark/)")
    p.add_argument("--visit-timeout", type=duration, default=DEFAULT_VISIT_TIMEOUT_S,
                   help="a visit ends after this long without a request (30m)")
    p.add_argument("--master", help="Spark master (default: spark-submit's, else local[2])")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a Spark setting (repeatable), as spark-submit --conf")
    p.add_argument("--parallel", type=int, default=3, metavar="N",
                   help="outputs computed at once (default 3)")
    p.add_argument("--show-sql", action="store_true", help="print each translated query")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(sets[0])
    then = output_set(argparse.ArgumentParser(prog=f"{p.prog} … --then"))
    args.then = [then.parse_args(s) for s in sets[1:]]
    outs = [args.out] + [t.out for t in args.then]
    if len({o.rstrip("/") for o in outs}) != len(outs):
        p.error("each --then needs an --out of its own")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except JobError as e:
        print(f"weblog-spark: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
