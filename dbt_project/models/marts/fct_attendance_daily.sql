{{
    config(
        materialized='incremental',
        incremental_strategy='day_slices',
        day_versions='int_attendance_grid_versions',
        full_refresh=false,
        on_schema_change='fail',
        pre_hook="{{ attendance_daily_partitions(this) }}",
    )
}}
-- depends_on: {{ ref('int_terms') }}

-- Child x school x school day, partitioned by term, rebuilt by day slice
-- (macros/day_slices/): loading term 2 never rewrites term 1's days, and a
-- new week of roll calls writes that week.
with grid as (
    {{ in_changed_days(ref('int_attendance_grid'), 'attendance_grid', ref('int_attendance_grid_versions')) }}
),

students as (
    select * from {{ ref('int_student_children') }}
),

loads as (
    select term_id, max(finished_at) as source_loaded_at
    from {{ source('audit', 'load_files') }}
    where superseded_at is null
        and status = 'loaded'
        and feed in ('kaoqin', 'xueji', 'calendar', 'schools')
    group by term_id
),

final as (
    select
        grid.term_id,
        grid.school_code,
        grid.student_key,
        students.child_key,
        grid.day,
        grid.attendance_kind,
        loads.source_loaded_at
    from grid
    inner join loads
        on grid.term_id = loads.term_id
    inner join students
        on grid.term_id = students.term_id
        and grid.student_key = students.student_key
)

select * from final
