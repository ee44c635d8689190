-- One status per student, school and school day: a day with several roll calls counts
-- its best status (present over excused over unexcused). Non-school days are ignored.
with records as (
    select * from {{ ref('stg_schools__attendance_records') }}
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
