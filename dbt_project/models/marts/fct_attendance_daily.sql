{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='term_id',
        full_refresh=false,
        on_schema_change='fail',
        pre_hook="{{ attendance_daily_partitions(this) }}",
    )
}}
-- depends_on: {{ ref('int_terms') }}

-- Child x school x school day, partitioned by term. A term is rebuilt only when one of
-- its attendance-related deliveries is newer than what the table was built from, so
-- loading term 2 never rewrites term 1's days.
with grid as (
    select * from {{ ref('int_attendance_grid') }}
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

terms_to_build as (
    select loads.*
    from loads
    {% if is_incremental() %}
    where loads.source_loaded_at > coalesce(
        (select max(built.source_loaded_at) from {{ this }} as built where built.term_id = loads.term_id),
        '-infinity'::timestamptz
    )
    {% endif %}
),

final as (
    select
        grid.term_id,
        grid.school_code,
        grid.student_key,
        students.child_key,
        grid.day,
        grid.attendance_kind,
        terms_to_build.source_loaded_at
    from grid
    inner join terms_to_build
        on grid.term_id = terms_to_build.term_id
    inner join students
        on grid.term_id = students.term_id
        and grid.student_key = students.student_key
)

select * from final
