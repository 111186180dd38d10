"""weblog's DuckDB SQL -> Spark SQL, without a JVM: sqlglot's transpiler plus the fix-ups of
FIXUPS, weblog's macros (sql/lib/macros.sql) expanded inline, `getvariable()` bound to
Spark session variables (VARIABLES) declared from the run's filters (Filters).

No PySpark here, so the unit tests (spark/tests/) run in a plain Python with sqlglot."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark

from .errors import JobError, warn

# --------------------------------------------------------------------------------------
# What weblog defines (keep in step with src/transform `prepare`; check.py compares them).
# --------------------------------------------------------------------------------------

#: weblog's session variables (`SET VARIABLE name = ?::TYPE` in src/transform `prepare`)
#: and their Spark types. `getvariable('name')` becomes a reference to the Spark session
#: variable of the same name, declared with the run's value (`variable_declarations`); a name
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

NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")


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


def _annotate(tree: exp.Expression, schema: dict | None,
              origin: str = "<sql>") -> dict[int, exp.DataType]:
    """Types of the nodes of `tree` (id -> type), from sqlglot's type annotation of a
    qualified copy against `schema`. Best effort: {} when sqlglot cannot qualify the query
    (then said on stderr: the type-dependent rules 7 and 8 do not apply to that file)."""
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
    except sqlglot.errors.SqlglotError as e:
        # OptimizeError when a column or table is not in `schema` (a rollup reading a view
        # the caller did not describe). The query still translates, only without the
        # type-dependent rules, which is how it always ran in that case; anything else
        # from sqlglot is a bug there and propagates.
        warn(f"{origin}: column types unknown ({e}); fractional casts and `/` are "
             "translated without them")
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
    ctx.types = _annotate(tree, schema, origin)
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
# The run's variables
# --------------------------------------------------------------------------------------


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


def variable_declarations(values: dict) -> list[str]:
    """The run's values as Spark SQL statements, bound as weblog binds them (src/transform
    `prepare`): every name of VARIABLES, NULL when `values` lacks it."""
    return [
        f"DECLARE OR REPLACE VARIABLE {name} {spark_type} "
        f"DEFAULT {sql_literal(values.get(name), spark_type)}"
        for name, spark_type in VARIABLES.items()
    ]


def rust_regex_escape(s: str) -> str:
    """Rust's regex::escape (what weblog applies to each --site-host)."""
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$#&-~" else c for c in s)


def site_hosts_pattern(hosts) -> str | None:
    """The one pattern `is_site_host` matches, as weblog's set_site_hosts builds it."""
    if not hosts:
        return None
    return "^(.*\\.)?(" + "|".join(rust_regex_escape(h.lower()) for h in hosts) + ")$"


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
