{{
    config(
        materialized='incremental',
        incremental_strategy='day_slices',
        day_versions='int_attendance_grid_versions',
        on_schema_change='fail',
    )
}}
-- Every (student, school) pair the term knows of crossed with the school's reported
-- days. A day with no row for the student is unexcused (SPEC §3), except for a pair
-- taught at home (送教上门), which has only its delivered roll calls. Rebuilt by day
-- slice (macros/day_slices/).
with pairs as (
    select * from {{ ref('int_attendance_pairs') }}
),

reported_days as (
    {{ in_changed_days(ref('int_school_reporting'), 'reporting', ref('int_attendance_grid_versions')) }}
),

attendance_days as (
    {{ in_changed_days(ref('int_attendance_days'), 'attendance', ref('int_attendance_grid_versions')) }}
),

final as (
    select
        pairs.term_id,
        pairs.school_code,
        pairs.student_key,
        reported_days.day,
        coalesce(attendance_days.attendance_kind, 'unexcused') as attendance_kind
    from pairs
    inner join reported_days
        on pairs.term_id = reported_days.term_id
        and pairs.school_code = reported_days.school_code
    left join attendance_days
        on pairs.term_id = attendance_days.term_id
        and pairs.school_code = attendance_days.school_code
        and pairs.student_key = attendance_days.student_key
        and reported_days.day = attendance_days.day
    where not pairs.is_home_taught
        or attendance_days.attendance_kind is not null
)

select * from final
