-- The county's published contract to its region (SPEC §7). dbt builds the candidate in
-- publish_build after every build; once the run's data-quality gate has passed, the
-- publish task (as kcbx_transformer) copies the term's rows into publish in one
-- transaction and stamps publish.publications. The region hub reads publish only, as
-- kcbx_publisher: aggregates (and, with a region key, matching tokens), never a number
-- or a name.
create schema if not exists publish_build;
create schema if not exists publish;

create table if not exists publish.publications (
    term_id text primary key,
    contract_version integer not null,
    published_at timestamptz not null,
    run_id text not null,
    row_counts jsonb not null
);
comment on table publish.publications is '向区域发布记录：每学期最近一次通过质量检查后发布的时间与行数';

revoke all on schema publish_build, publish from public;
grant usage, create on schema publish_build, publish to kcbx_transformer;
revoke all on publish.publications from kcbx_loader, kcbx_transformer, kcbx_reporter, kcbx_publisher, kcbx_bi,
    kcbx_township, kcbx_auditor, kcbx_admin;
grant select, insert, update, delete on publish.publications to kcbx_transformer;

-- kcbx_publisher: the hub's login into the county, the published tables only.
grant usage on schema publish to kcbx_publisher;
grant select on publish.publications to kcbx_publisher;
alter default privileges for role kcbx_transformer in schema publish grant select on tables to kcbx_publisher, kcbx_admin;

-- kcbx_admin
grant usage on schema publish_build, publish to kcbx_admin;
grant select on publish.publications to kcbx_admin;

-- The term's last finished run as the region sees it (region.county_runs, `kcbx region
-- status`): when, success or failed, the failed step and its first line (identity-shaped
-- numbers already blanked by kcbx/orchestration/failures.py). Under Airflow a county's run
-- and the hub's refresh are apart, and a failed run publishes nothing: this is how the
-- hub learns of it. Owned by the set-up login, so kcbx_publisher reads these columns
-- and not audit.pipeline_runs.
create or replace view publish.last_runs as
select distinct on (term_id)
    term_id,
    started_at,
    finished_at,
    case when outcome = 'failed' then 'failed' else 'success' end as state,
    failed_task as failed_step,
    error as message
from audit.pipeline_runs
where outcome in ('built', 'unchanged', 'failed')
order by term_id, finished_at desc;
comment on view publish.last_runs is '每学期最近一次完成的运行：成功或失败、失败步骤（供区域汇总）';
revoke all on publish.last_runs from public;
grant select on publish.last_runs to kcbx_publisher, kcbx_admin;
