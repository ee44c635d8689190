"""The data-quality suites, declared as data: which table is the batch, which checks run.
They hold what dbt's tests cannot: cross-feed consistency and per-term rates. A check
that repeats a dbt error-severity test is left out (it runs only after that test passed,
so it could never fail).

Queries return only keys (child_key, school codes), never names or identity numbers,
because Data Docs show unexpected rows to auditors. Checks on the big attendance feed
read intermediate.int_attendance_school_days (counts per school and day) so that a
rerun does not rescan millions of roll calls; GX runs each query twice (rows, count).
`{batch}` is the asset's table; `{term}` is replaced by the validated term id before the
suite is saved. GX writes `{batch}` as a subquery, aliased `subselect` unless the query
has a JOIN: then the query aliases it (`from {batch} as f`), as PostgreSQL before 16
refuses a subquery without an alias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kcbx.feeds import catalogue

# The feed catalogue as a VALUES list, for checks that look for feeds not delivered.
FEEDS_SQL = "values " + ", ".join(f"('{name}')" for name in catalogue())


@dataclass(frozen=True)
class RowCheck:
    name: str
    description: str  # what an auditor reads in Data Docs
    query: str
    severity: str = "warning"


@dataclass(frozen=True)
class Suite:
    name: str
    schema: str
    table: str
    checks: tuple


SUITES = (
    Suite(
        "registry_vs_attendance",
        "intermediate",
        "int_registrations",
        (
            RowCheck(
                "enrolled_students_have_attendance",
                "学校上报了考勤，但在读学生无任何考勤记录 / 在读 students at reporting schools with no roll call",
                """
            select r.term_id, r.school_code, r.child_key
            from (select * from {batch}) as r
            where r.term_id = '{term}' and r.registry_status_code = 'enrolled' and r.is_county_school
              and exists (select 1 from intermediate.int_school_reporting as s
                          where s.term_id = r.term_id and s.school_code = r.school_code)
              and not exists (select 1 from intermediate.int_attendance_days as a
                              where a.term_id = r.term_id and a.school_code = r.school_code
                                and a.student_key = r.student_key)
            """,
            ),
            RowCheck(
                "attendance_students_are_registered",
                "考勤中的学籍号在学籍系统中不存在 / attendance for a 学籍号 the registry does not know",
                """
            select distinct a.term_id, a.school_code, a.student_key
            from intermediate.int_attendance_days as a
            where a.term_id = '{term}'
              and not exists (select 1 from (select * from {batch}) as r
                              where r.term_id = a.term_id and r.student_key = a.student_key)
            """,
            ),
            RowCheck(
                "attendance_on_school_days",
                "考勤日期不是校历上课日 / roll calls dated on a day that is not a school day",
                """
            select a.term_id, a.school_code, a.day, a.roll_calls
            from intermediate.int_attendance_school_days as a
            where a.term_id = '{term}'
              and exists (select 1 from (select * from {batch}) as r where r.term_id = a.term_id)
              and not exists (select 1 from staging.stg_jiaoyu__calendar_days as c
                              where c.term_id = a.term_id and c.day = a.day and c.is_school_day)
            """,
            ),
            RowCheck(
                "phantom_rate_per_school",
                "学校空挂学籍比例超过 5% / schools where more than 5% of 在读 students never attended",
                """
            select r.school_code, count(*) as enrolled,
                   count(f.child_key) as phantom,
                   round(100.0 * count(f.child_key) / count(*), 1) as phantom_percent
            from {batch} as r
            left join marts.fct_findings as f
              on f.term_id = r.term_id and f.school_code = r.school_code and f.child_key = r.child_key
             and f.finding_type = 'phantom_enrolment'
            where r.term_id = '{term}' and r.registry_status_code = 'enrolled' and r.is_county_school
            group by r.school_code
            having count(f.child_key) > 0.05 * count(*)
            """,
            ),
        ),
    ),
    Suite(
        "feed_quality",
        "audit",
        "load_files",
        (
            RowCheck(
                "rows_accounted_for",
                "每个文件：读取行数 = 入库行数 + 隔离行数 / every file: rows read = loaded + rejected",
                """
            select load_id, feed, file_name, rows_read, rows_loaded, rows_rejected
            from {batch}
            where term_id = '{term}' and status <> 'loading' and rows_read <> rows_loaded + rows_rejected
            """,
                severity="critical",
            ),
            RowCheck(
                "every_feed_delivered",
                "本学期缺少的部门数据 / feeds with no loaded file for the term",
                f"""
            select feeds.feed
            from ({FEEDS_SQL}) as feeds (feed)
            where not exists (select 1 from (select * from {{batch}}) as f
                              where f.term_id = '{{term}}' and f.feed = feeds.feed
                                and f.superseded_at is null and f.status = 'loaded')
            """,
            ),
            RowCheck(
                "files_not_rejected",
                "被整体拒收的文件 / delivered files rejected as a whole",
                """
            select feed, file_name, message
            from {batch}
            where term_id = '{term}' and superseded_at is null and status = 'rejected'
            """,
            ),
            RowCheck(
                "identity_number_validity",
                "身份证号无效率超过 1% 的数据 / feeds where more than 1% of rows had an invalid identity number",
                """
            select f.feed, sum(f.rows_read) as rows_read, count(r.*) as invalid_identity_numbers
            from {batch} as f
            left join audit.rejected_rows as r on r.load_id = f.load_id and r.reason like 'id\\_%'
            where f.term_id = '{term}' and f.superseded_at is null
            group by f.feed
            having count(r.*) > 0.01 * sum(f.rows_read)
            """,
            ),
            RowCheck(
                "registry_numbers_unique",
                "学籍号重复（一生一籍）/ a 全国学籍号 delivered more than once in the registry export",
                """
            select r.student_key, count(*) as rows_with_this_number
            from staging.stg_jiaoyu__student_registrations as r
            where r.term_id = '{term}'
              and exists (select 1 from (select * from {batch}) as f where f.term_id = r.term_id)
            group by r.student_key
            having count(*) > 1
            """,
            ),
            RowCheck(
                "one_roll_call_per_student_day",
                "同一学生同一天有多条考勤 / more than one roll call for a student, school and day",
                """
            select a.school_code, a.day, a.roll_calls - a.students as repeated_roll_calls
            from intermediate.int_attendance_school_days as a
            where a.term_id = '{term}'
              and exists (select 1 from (select * from {batch}) as f where f.term_id = a.term_id)
              and a.roll_calls > a.students
            """,
            ),
            RowCheck(
                "attendance_schools_exist",
                "考勤中的学校不在学校名录中 / attendance from a school missing from the schools feed",
                """
            select distinct a.school_code
            from intermediate.int_attendance_school_days as a
            where a.term_id = '{term}'
              and exists (select 1 from (select * from {batch}) as f where f.term_id = a.term_id)
              and not exists (select 1 from staging.stg_jiaoyu__schools as s
                              where s.term_id = a.term_id and s.school_code = a.school_code)
            """,
            ),
            RowCheck(
                "hukou_villages_exist",
                "户籍地区划代码不在行政区划中 / 户籍 villages missing from the regions feed",
                """
            select distinct h.hukou_region_code
            from staging.stg_gongan__household_registrations as h
            where h.term_id = '{term}'
              and exists (select 1 from (select * from {batch}) as f where f.term_id = h.term_id)
              and not exists (select 1 from staging.stg_tongji__regions as g
                              where g.term_id = h.term_id and g.region_code = h.hukou_region_code)
            """,
            ),
        ),
    ),
)


def tables_read() -> set[str]:
    """Every schema.table the suites read: their assets and the relations their queries
    name. The set-up grants the login that runs GX SELECT on these (kcbx/quality/grants.py)
    and the quality step analyses them, so a reference that cannot be resolved fails here."""
    tables = {f"{suite.schema}.{suite.table}" for suite in SUITES}
    for suite in SUITES:
        for check in suite.checks:
            try:
                tables |= relations_read(check.query, f"{suite.schema}.{suite.table}")
            except UnresolvedRelation as exc:
                raise UnresolvedRelation(f"{suite.name}.{check.name}: {exc}") from None
    return tables


# --- which relations a check's query reads ------------------------------------------

# Schemas a check may read; a name in any other schema is refused, not guessed.
SCHEMAS = frozenset({"raw", "staging", "intermediate", "marts", "audit", "pii"})


class UnresolvedRelation(ValueError):
    """A FROM or JOIN item of a check's query that is not a relation this module can name."""


_TOKEN = re.compile(
    r"""
    (?P<skip>\s+|--[^\n]*|/\*.*?\*/|'(?:[^']|'')*')   # space, comments, string literals
  | (?P<batch>\{batch\})
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>\d+(?:\.\d*)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# Functions whose arguments use FROM as a word, not a clause.
_FROM_IN_ARGUMENTS = frozenset({"extract", "substring", "trim", "overlay", "position"})
# Words that end a FROM list (at its own parenthesis depth); with the join words, an item's alias.
_END_OF_FROM = frozenset(
    {"where", "group", "having", "order", "limit", "offset", "fetch", "for", "window", "union", "intersect",
     "except", "returning"}
)  # fmt: skip
_NOT_AN_ALIAS = _END_OF_FROM | {"on", "using", "join", "inner", "left", "right", "full", "cross", "natural"}


def _tokens(query: str) -> list[tuple[str, str]]:
    out = []
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup
        if kind != "skip":
            text = match.group()
            out.append((kind, text.lower() if kind == "word" else text))
    return out


def _closing(tokens: list[tuple[str, str]], i: int) -> int:
    """The index of the parenthesis that closes the one at i."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j] == ("punct", "("):
            depth += 1
        elif tokens[j] == ("punct", ")"):
            depth -= 1
            if depth == 0:
                return j
    raise UnresolvedRelation("unbalanced parentheses")


def relations_read(query: str, batch: str) -> set[str]:
    """The schema.table names a query reads, `{batch}` standing for `batch` (the asset).
    Subqueries and VALUES lists are read through; an unqualified name must be a CTE of
    the query. Anything else in a FROM or JOIN item (an unqualified or quoted name, a
    schema that is not kcbx's, a set-returning function) raises UnresolvedRelation."""
    tokens = _tokens(query)
    ctes = {
        tokens[i][1]
        for i in range(1, len(tokens) - 2)
        if tokens[i][0] == "word"
        and tokens[i + 1] == ("word", "as")
        and tokens[i + 2] == ("punct", "(")
        and tokens[i - 1] in (("word", "with"), ("word", "recursive"), ("punct", ","))
    }
    found: set[str] = set()

    def item(j: int) -> int:
        """Resolve the FROM/JOIN item starting at j; the index after it and its alias."""
        if j < len(tokens) and tokens[j] == ("word", "lateral"):
            j += 1
        if j >= len(tokens):
            raise UnresolvedRelation("FROM or JOIN without a relation")
        kind, text = tokens[j]
        if kind == "batch":
            found.add(batch)
            j += 1
        elif (kind, text) == ("punct", "("):
            j = _closing(tokens, j) + 1  # a subquery or VALUES: its own FROMs are scanned on their own
        elif kind == "word" and tokens[j + 1 : j + 2] == [("punct", ".")]:
            name = tokens[j + 2] if j + 2 < len(tokens) else ("", "")
            if name[0] != "word" or text not in SCHEMAS:
                raise UnresolvedRelation(
                    f"cannot resolve {text}.{name[1]} (kcbx schemas: {', '.join(sorted(SCHEMAS))})"
                )
            if tokens[j + 3 : j + 4] == [("punct", "(")]:
                raise UnresolvedRelation(f"{text}.{name[1]}(...) is a function, not a relation")
            found.add(f"{text}.{name[1]}")
            j += 3
        elif kind == "word" and text in ctes:
            j += 1
        else:
            raise UnresolvedRelation(f"cannot resolve {text!r}: name relations as schema.table")
        # The alias, and the column list of a subquery's or VALUES' alias.
        if j < len(tokens) and tokens[j] == ("word", "as"):
            j += 1
        if j < len(tokens) and tokens[j][0] == "word" and tokens[j][1] not in _NOT_AN_ALIAS:
            j += 1
            if j < len(tokens) and tokens[j] == ("punct", "("):
                j = _closing(tokens, j) + 1
        return j

    functions: list[str | None] = []  # per open parenthesis: the function it calls, if any
    for i, (kind, text) in enumerate(tokens):
        if (kind, text) == ("punct", "("):
            before = tokens[i - 1] if i else ("", "")
            functions.append(before[1] if before[0] == "word" else None)
        elif (kind, text) == ("punct", ")"):
            if functions:
                functions.pop()
        elif (kind, text) == ("word", "join"):
            item(i + 1)
        elif (kind, text) == ("word", "from"):
            if functions and functions[-1] in _FROM_IN_ARGUMENTS:
                continue
            if tokens[max(i - 1, 0)] == ("word", "distinct"):  # IS [NOT] DISTINCT FROM
                continue
            # The FROM list: items separated by commas at this depth (JOINs and their
            # conditions between them), until the next clause or the closing ")".
            j, depth = item(i + 1), 0
            while j < len(tokens):
                here = tokens[j]
                if here == ("punct", "("):
                    depth += 1
                elif here == ("punct", ")"):
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0 and here[0] == "word" and here[1] in _END_OF_FROM:
                    break
                elif depth == 0 and here == ("punct", ","):
                    j = item(j + 1)
                    continue
                j += 1
    return found
