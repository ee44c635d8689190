{{
    config(
        materialized='incremental',
        incremental_strategy='day_slices',
        day_versions='int_attendance_grid_versions',
        on_schema_change='fail',
    )
}}
-- depends_on: {{ ref('int_attendance_grid_versions') }}
-- Per student, school and term: day counts and unexcused runs over the school's reported
-- days, from the student's weeks (int_attendance_student_weeks). A run is consecutive
-- reported days that are all unexcused (旷课 or no roll call); the longest is the
-- longest any week's days reached, the current one is the run reaching the last
-- reported day. Terms with a changed day are replaced (macros/day_slices/).
with weeks as (
    select * from {{ ref('int_attendance_student_weeks') }}
),

{% if is_incremental() %}
changed_terms as (
    select distinct changed.term_id
    from ({{ changed_days(ref('int_attendance_grid_versions')) }}) as changed
),

term_weeks as (
    select weeks.*
    from weeks
    where weeks.term_id in (select changed_terms.term_id from changed_terms)
),
{% else %}
term_weeks as (
    select * from weeks
),
{% endif %}

final as (
    select
        term_id,
        school_code,
        student_key,
        sum(school_days) as reported_days,
        sum(present_days) as present_days,
        sum(excused_days) as excused_days,
        sum(unexcused_days) as unexcused_days,
        max(last_present_on) as last_present_on,
        max(week_end_day) as last_reported_on,
        max(longest_run)::bigint as longest_unexcused_run,
        ((array_agg(current_run order by week_start desc))[1])::bigint as current_unexcused_run
    from term_weeks
    group by term_id, school_code, student_key
)

select * from final
