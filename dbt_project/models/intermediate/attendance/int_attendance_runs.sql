{{
    config(
        materialized='incremental',
        incremental_strategy='day_slices',
        day_versions='int_attendance_grid_versions',
        on_schema_change='fail',
    )
}}
-- depends_on: {{ ref('int_attendance_grid_versions') }}
-- Per student, school and term: day counts and unexcused runs (macros/attendance_runs.sql).
-- The current run is the one that reaches the school's last reported day. Terms with a
-- changed day are replaced (macros/day_slices/): when every changed day comes after the
-- last day summarised - a new week of roll calls - the new days are folded onto the
-- stored summary; any other change (a corrected file, a new student, a calendar change)
-- summarises the term again from the grid.
{#- tells the operator which; not in unit tests, where refs name the fixtures -#}
{%- if execute and is_incremental() and model.resource_type == 'model' %}
    {%- for term_id, is_extended in run_query(attendance_run_modes()).rows %}
        {%- do log('kcbx: int_attendance_runs ' ~ ('folds the new days onto' if is_extended else 'rebuilds')
            ~ ' term ' ~ term_id, info=true) %}
    {%- endfor %}
{%- endif %}
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),

{% if is_incremental() %}
modes as (
    {{ attendance_run_modes() }}
),

changed_days as (
    {{ changed_days(ref('int_attendance_grid_versions')) }}
),

-- one reference to grid: a second one would make Postgres materialise the whole term
segment as (
    select grid.*
    from grid
    inner join modes
        on grid.term_id = modes.term_id
    where not modes.is_extended
        or (grid.term_id, grid.day) in (select changed_days.term_id, changed_days.day from changed_days)
),

earlier as (
    select summarised.*
    from {{ this }} as summarised
    inner join modes
        on summarised.term_id = modes.term_id
        and modes.is_extended
),
{% else %}
segment as (
    select * from grid
),
{% endif %}

segment_summary as (
    {{ summarise_attendance_days('segment') }}
),

{% if is_incremental() %}
final as (
    {{ fold_attendance_runs('earlier', 'segment_summary') }}
)
{% else %}
final as (
    select
        term_id,
        school_code,
        student_key,
        reported_days,
        present_days,
        excused_days,
        unexcused_days,
        last_present_on,
        last_reported_on,
        longest_unexcused_run,
        current_unexcused_run
    from segment_summary
)
{% endif %}

select * from final
