-- Operations (SPEC §6): one run per term at a time, and what each finished run was built
-- from, so a run that finds nothing new can leave everything as it is
-- (kcbx/orchestration/).
create table if not exists audit.term_locks (
    term_id text primary key,
    run_id text not null,
    -- 'cli' (kcbx run, in-process) or 'scheduler'
    holder text not null default 'scheduler',
    acquired_at timestamptz not null default now(),
    refreshed_at timestamptz not null default now()
);
alter table audit.term_locks add column if not exists holder text not null default 'scheduler';

create table if not exists audit.pipeline_runs (
    run_id text not null,
    term_id text not null,
    -- hash of every current delivery (all terms), the code and the thresholds
    fingerprint text not null,
    -- started: the build began (a run killed after it leaves the term to be built again)
    outcome text not null,
    finished_at timestamptz not null default now(),
    primary key (run_id, term_id)
);
-- running: the run holds its term (kcbx status shows it, with its start); failed: a task
-- failed, named with the first line of its error (identity-shaped numbers blanked)
alter table audit.pipeline_runs add column if not exists started_at timestamptz not null default now();
alter table audit.pipeline_runs add column if not exists failed_task text;
alter table audit.pipeline_runs add column if not exists error text;
alter table audit.pipeline_runs drop constraint if exists pipeline_runs_outcome_check;
alter table audit.pipeline_runs add constraint pipeline_runs_outcome_check
    check (outcome in ('running', 'started', 'built', 'unchanged', 'failed'));
comment on table audit.pipeline_runs is '流水线运行记录 — each term run: running, started (build began), built, unchanged (nothing new) or failed';
comment on column audit.pipeline_runs.started_at is '运行开始时间';
comment on column audit.pipeline_runs.failed_task is '失败的任务（步骤）';
comment on column audit.pipeline_runs.error is '失败原因（首行，身份证号等已隐去）';

revoke all on audit.term_locks, audit.pipeline_runs
    from kcbx_loader, kcbx_transformer, kcbx_reporter, kcbx_bi, kcbx_township, kcbx_auditor, kcbx_admin;
grant select, insert, update, delete on audit.term_locks to kcbx_loader;
grant select, insert, update on audit.pipeline_runs to kcbx_loader;
grant select on audit.pipeline_runs, audit.term_locks to kcbx_auditor, kcbx_admin;

-- Fresh statistics on the load audit after each feed is loaded (kcbx/ingest/load.py).
-- Stale ones (a handful of loads where there are sixty) made the planner read every
-- delivery's rows once per load, checking each: a 0.2 s test took 20 s in a 100k
-- county's first run. The loader does not own the table; this is all it may do with it.
create or replace function audit.analyze_load_files() returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    analyze audit.load_files;
end
$$;
revoke all on function audit.analyze_load_files() from public;
grant execute on function audit.analyze_load_files() to kcbx_loader;
