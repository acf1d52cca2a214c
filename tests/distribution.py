"""The schema's distribution rules (docs/scaling.md), read from the catalog and the SQL.

A region table is a table with a ``region`` column. The rules a Citus cluster distributed by
``region`` needs, which one server keeps too:

1. every primary and unique key of a region table includes ``region``;
2. every foreign key between region tables includes ``region`` on both sides, paired;
3. every join between region tables in the project's SQL equates their regions: directly
   (``a.region = b.region``), through a chain of such equalities, or by pinning both to the same
   value (``a.region = :region AND b.region = :region``).

Rule 3 parses the SQL with sqlglot (PostgreSQL dialect). It looks at the tables a query names:
a join with a common table expression, a subquery or a set-returning function is not a join
between region tables, and the tables inside those are checked where they are joined. A
correlated subquery joins its tables with the outer query's it refers to.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlalchemy import Connection, text
from sqlglot import exp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geo", "api", "maps", "cli", "demo")

# Files sqlglot cannot parse, and why none of them joins region tables (checked: they name none).
UNPARSED = {
    "stage_column_types.sql": "reads pg_attribute for the staged columns' types",
}

# The sharded run's SQL (geo/scale/sql) works on its own schema ``national`` on a coordinator
# and its shards, never on the store's tables: its joins are checked by tests/test_shards.py
# (each pushed down per region, which needs the region equality there too).
OWN_SCHEMA = Path("geo") / "scale" / "sql"

# A template's placeholders (str.format): {table} is a record kind's table (incidents or
# hazards, both region tables), {filters} more conditions (none here), {conflict} the upsert's
# conflict clause (records_conflict.sql, checked on its own); any other stands for a column or
# an expression list.
_FILLED = {"table": "incidents", "filters": "", "conflict": ""}
_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")
_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, and what."""

    rule: str
    where: str
    what: str


def region_tables(conn: Connection, schema: str = "public") -> set[str]:
    """The tables of ``schema`` with a region column (a partitioned table once)."""
    return set(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                "WHERE c.relnamespace = CAST(:s AS regnamespace) AND c.relkind IN ('r', 'p') "
                "AND NOT c.relispartition AND a.attname = 'region' AND NOT a.attisdropped"
            ),
            {"s": schema},
        ).scalars()
    )


def key_violations(conn: Connection, schema: str = "public") -> list[Violation]:
    """Rule 1: primary keys, unique constraints and unique indexes of region tables without
    region."""
    rows = conn.execute(
        text(
            "SELECT c.relname, i.relname FROM pg_index x "
            "JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE c.relnamespace = CAST(:s AS regnamespace) AND NOT c.relispartition "
            "AND x.indisunique AND NOT EXISTS ("
            "  SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'region' "
            "  AND a.attnum = ANY(x.indkey)) "
            "ORDER BY 1, 2"
        ),
        {"s": schema},
    ).all()
    region = region_tables(conn, schema)
    return [
        Violation("key", table, f"unique key {index} leaves region out")
        for table, index in rows
        if table in region
    ]


def foreign_key_violations(conn: Connection, schema: str = "public") -> list[Violation]:
    """Rule 2: foreign keys between region tables whose column pairs do not pair region with
    region."""
    rows = conn.execute(
        text(
            "SELECT c.relname, r.relname, k.conname, EXISTS ("
            "  SELECT FROM unnest(k.conkey, k.confkey) AS p(a, b) "
            "  JOIN pg_attribute x ON x.attrelid = k.conrelid AND x.attnum = p.a "
            "  JOIN pg_attribute y ON y.attrelid = k.confrelid AND y.attnum = p.b "
            "  WHERE x.attname = 'region' AND y.attname = 'region') "
            "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_class r ON r.oid = k.confrelid "
            "WHERE k.contype = 'f' AND k.conparentid = 0 "
            "AND k.connamespace = CAST(:s AS regnamespace) ORDER BY 1, 3"
        ),
        {"s": schema},
    ).all()
    region = region_tables(conn, schema)
    return [
        Violation("foreign key", table, f"{name} references {ref} without region")
        for table, ref, name, paired in rows
        if table in region and ref in region and not paired
    ]


def sql_files() -> list[Path]:
    """The SQL files of the project's packages (``<package>/**/sql/*.sql``)."""
    return sorted(
        p
        for package in PACKAGES
        for p in (ROOT / package).glob("**/sql/*.sql")
        if p.parent != ROOT / OWN_SCHEMA
    )


def inline_sql() -> Iterator[tuple[str, str]]:
    """(where, statement) of each literal string passed to ``text()`` in the packages."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("**/*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "text"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    yield where, node.args[0].value


def prepare(source: str, name: str = "") -> str:
    """``source`` made parseable: bound parameters as ``%(name)s``, a template's placeholders
    filled, a list of ``jsonb_build_object`` arguments (``*_properties.sql``) wrapped in one, the
    upsert's conflict clause (``records_conflict.sql``) in an insert."""
    if _PLACEHOLDER.search(source) or "{{" in source:
        source = _PLACEHOLDER.sub(lambda m: _FILLED.get(m.group(1), f"tmpl_{m.group(1)}"), source)
        source = source.replace("{{", "{").replace("}}", "}")
    source = _PARAM.sub(r"%(\1)s", source)
    source = re.sub(r"(?<=\.)row\b", '"row"', source)
    if name.endswith("_properties.sql"):
        source = f"SELECT jsonb_build_object(\n{source}\n)"
    if name == "records_conflict.sql":  # a clause of records_upsert.sql's insert
        source = f"INSERT INTO incidents AS t (region) SELECT %(region)s\n{source}"
    return source


def _region_column(node: exp.Expr) -> exp.Column | None:
    return node if isinstance(node, exp.Column) and node.name == "region" else None


def _value(node: exp.Expr) -> str | None:
    """A fixed value a region may be pinned to: a parameter or a literal (maybe cast)."""
    while isinstance(node, exp.Cast | exp.Paren):
        node = node.this
    if isinstance(node, exp.Placeholder | exp.Parameter | exp.Literal):
        return f"value:{node.sql()}"
    return None


class _Links:
    """Union-find over aliases and pinned values."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _sources(select: exp.Expr, ctes: set[str], region: set[str]) -> dict[str, str]:
    """alias -> region table of the tables ``select`` itself names (FROM, JOIN, UPDATE, DELETE)."""
    found: dict[str, str] = {}
    for table in select.find_all(exp.Table):
        if table.find_ancestor(exp.Select, exp.Update, exp.Delete) is not select:
            continue
        name = table.name
        if name in ctes or name not in region:
            continue
        found[table.alias_or_name] = name
    return found


_SCOPES = (exp.Select, exp.Update, exp.Delete)


def _enclosing(scope: exp.Expr) -> list[exp.Expr]:
    """The queries ``scope`` is nested in, innermost first."""
    found: list[exp.Expr] = []
    outer = scope.parent
    while outer is not None:
        if isinstance(outer, _SCOPES):
            found.append(outer)
        outer = outer.parent
    return found


def _joined(
    scope: exp.Expr, enclosing: list[exp.Expr], own: dict[int, dict[str, str]]
) -> dict[str, str]:
    """alias -> region table of what ``scope`` joins: its own tables, and the outer query's
    it refers to (a correlated subquery)."""
    names = dict(own[id(scope)])
    referred = {c.table for c in scope.find_all(exp.Column) if c.table}
    for parent in enclosing:
        for alias, table in own[id(parent)].items():
            if alias in referred and alias not in names:
                names[alias] = table
    return names


def _equalities(node: exp.Expr, names: dict[str, str], mine: dict[str, str], links: _Links) -> None:
    """Link the aliases (and values) that ``node``'s conditions set region equal to."""
    for eq in node.find_all(exp.EQ):
        ends = []
        for col, other in (
            (_region_column(eq.left), eq.right),
            (_region_column(eq.right), eq.left),
        ):
            if col is None:
                continue
            # An unqualified region is the one table the query names itself.
            table = col.table or (next(iter(mine)) if len(mine) == 1 else "")
            ends.append(f"alias:{table}")
            if _region_column(other) is None and (value := _value(other)):
                ends.append(value)
        if len(ends) == 2:
            links.join(ends[0], ends[1])
    for join in node.find_all(exp.Join):
        if any(getattr(u, "name", "") == "region" for u in join.args.get("using") or []):
            for name in names:
                links.join(f"alias:{join.this.alias_or_name}", f"alias:{name}")


def join_violations(statement: str, where: str, region: set[str]) -> list[Violation]:
    """Rule 3 for one SQL text (one or more statements)."""
    out: list[Violation] = []
    for tree in sqlglot.parse(statement, read="postgres"):
        if tree is None:
            continue
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        scopes: list[exp.Expr] = list(tree.find_all(*_SCOPES))
        own = {id(s): _sources(s, ctes, region) for s in scopes}
        for scope in scopes:
            enclosing = _enclosing(scope)
            names = _joined(scope, enclosing, own)
            links = _Links()
            for node in [scope, *enclosing]:
                _equalities(node, names, own[id(node)], links)
            aliases = sorted(names)
            out += [
                Violation(
                    "join",
                    where,
                    f"{names[a]} {a} and {names[b]} {b} are joined without a region equality",
                )
                for i, a in enumerate(aliases)
                for b in aliases[i + 1 :]
                if links.find(f"alias:{a}") != links.find(f"alias:{b}")
            ]
    return out


def sql_violations(region: set[str], extra: Iterable[tuple[str, str]] = ()) -> list[Violation]:
    """Rule 3 over every SQL file and every literal ``text()`` statement (and ``extra``)."""
    out: list[Violation] = []
    sources = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sql_files()]
    for where, source in [*sources, *inline_sql(), *extra]:
        name = Path(where.split(":")[0]).name
        if name in UNPARSED and where.endswith(".sql"):
            mentioned = {t for t in region if re.search(rf"\b{t}\b", source)}
            if mentioned:
                out.append(Violation("join", where, f"unparsed, names {sorted(mentioned)}"))
            continue
        try:
            out.extend(join_violations(prepare(source, name), where, region))
        except sqlglot.errors.ParseError as exc:
            out.append(Violation("parse", where, str(exc).splitlines()[0]))
    return out
