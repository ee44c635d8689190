{{
    config(
        materialized='incremental',
        incremental_strategy='day_slices',
        day_versions='int_attendance_day_versions',
        on_schema_change='fail',
    )
}}
-- One status per student, school and school day: a day with several roll calls counts
-- its best status (present over excused over unexcused). Non-school days are ignored.
-- Rebuilt by day slice: only days whose files or calendar changed are recomputed.
with changed_days as (
    {{ changed_days(ref('int_attendance_day_versions')) }}
),

changed_loads as (
    select distinct load_days.load_id
    from {{ ref('int_attendance_load_days') }} as load_days
    inner join changed_days
        on load_days.term_id = changed_days.term_id
        and load_days.day = changed_days.day
),

records as (
    select *
    from {{ ref('stg_schools__attendance_records') }}
    {% if is_incremental() %}
    where load_id in (select changed_loads.load_id from changed_loads)
    {% endif %}
),

calendar as (
    select * from {{ ref('stg_jiaoyu__calendar_days') }}
),

on_school_days as (
    select records.*
    from records
    inner join calendar
        on records.term_id = calendar.term_id
        and records.day = calendar.day
        and calendar.is_school_day
    {% if is_incremental() %}
    inner join changed_days
        on records.term_id = changed_days.term_id
        and records.day = changed_days.day
    {% endif %}
),

final as (
    select
        term_id,
        school_code,
        student_key,
        day,
        case max(case attendance_kind when 'present' then 2 when 'excused' then 1 else 0 end)
            when 2 then 'present'
            when 1 then 'excused'
            else 'unexcused'
        end as attendance_kind
    from on_school_days
    group by term_id, school_code, student_key, day
)

select * from final
