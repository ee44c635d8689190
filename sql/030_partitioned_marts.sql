-- marts.fct_attendance_daily is partitioned by term (one partition per term, created by
-- the dbt model's pre-hook). dbt's incremental materialization cannot create a
-- partitioned table, so the parent exists before dbt first runs and dbt only ever adds
-- to it. Columns must match the model's contract in dbt_project/models/marts/_marts.yml.
create table if not exists marts.fct_attendance_daily (
    term_id text not null,
    school_code text,
    student_key text,
    child_key text,
    day date,
    attendance_kind text,
    source_loaded_at timestamptz
) partition by list (term_id);

-- Rows of a new week are appended together, so a block-range index on day lets the
-- model's slice delete and the tests on unverified days (dbt_project/macros/
-- day_slices/) read that week's blocks instead of the whole term. Tiny to keep.
create index if not exists fct_attendance_daily_day on marts.fct_attendance_daily using brin (day);
-- dbt adds a partition per term, which needs ownership of the parent.
alter table marts.fct_attendance_daily owner to kcbx_transformer;
