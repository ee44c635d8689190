{{
    config(
        materialized='incremental',
        incremental_strategy='day_slices',
        day_versions='int_attendance_grid_versions',
        on_schema_change='fail',
    )
}}
-- depends_on: {{ ref('int_attendance_grid_versions') }}
-- Student x school x week: what the week's roll calls say, and where the student stood
-- on its last reported day of the week - the unexcused run reaching that day, the last
-- warning_window_days reported days, the term so far - for the early warning
-- (int_warning_scores), plus the days on which a run reached the 疑似辍学 threshold
-- (the events the warning is proven against). Terms with a changed day are summarised
-- again (macros/day_slices/: this model has no day column).
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),

{% if is_incremental() %}
changed_terms as (
    select distinct changed.term_id
    from ({{ changed_days(ref('int_attendance_grid_versions')) }}) as changed
),

days as (
    select grid.*
    from grid
    where grid.term_id in (select changed_terms.term_id from changed_terms)
),
{% else %}
days as (
    select * from grid
),
{% endif %}

numbered as (
    select
        term_id,
        school_code,
        student_key,
        day,
        attendance_kind,
        date_trunc('week', day)::date as week_start,
        count(*) filter (where attendance_kind <> 'unexcused') over so_far as run_group,
        count(*) over so_far as days_so_far,
        count(*) filter (where attendance_kind = 'present') over so_far as present_so_far,
        count(*) over recent as recent_days,
        count(*) filter (where attendance_kind = 'present') over recent as recent_present,
        count(*) filter (where attendance_kind = 'unexcused') over recent as recent_unexcused
    from days
    window
        so_far as (
            partition by term_id, school_code, student_key
            order by day
            rows between unbounded preceding and current row
        ),
        recent as (
            partition by term_id, school_code, student_key
            order by day
            rows between {{ var('warning_window_days') - 1 }} preceding and current row
        )
),

runs as (
    select
        *,
        count(*) filter (where attendance_kind = 'unexcused') over (
            partition by term_id, school_code, student_key, run_group
            order by day
            rows between unbounded preceding and current row
        ) as current_run
    from numbered
),

final as (
    select
        term_id,
        school_code,
        student_key,
        week_start,
        max(day) as week_end_day,
        count(*)::integer as school_days,
        (count(*) filter (where attendance_kind = 'present'))::integer as present_days,
        (count(*) filter (where attendance_kind = 'excused'))::integer as excused_days,
        (count(*) filter (where attendance_kind = 'unexcused'))::integer as unexcused_days,
        ((array_agg(current_run order by day desc))[1])::integer as current_run,
        ((array_agg(recent_days order by day desc))[1])::integer as recent_days,
        ((array_agg(recent_present order by day desc))[1])::integer as recent_present,
        ((array_agg(recent_unexcused order by day desc))[1])::integer as recent_unexcused,
        ((array_agg(days_so_far order by day desc))[1])::integer as days_so_far,
        ((array_agg(present_so_far order by day desc))[1])::integer as present_so_far,
        coalesce(
            array_agg(day order by day) filter (
                where attendance_kind = 'unexcused' and current_run = {{ var('dropout_days') }}
            ),
            '{}'::date[]
        ) as run_reached_on
    from runs
    group by term_id, school_code, student_key, week_start
)

select * from final
