-- The school days on which each school reported attendance for anyone. A day the
-- school reported nothing is unknown for all its students, not unexcused.
with load_days as (
    select * from {{ ref('int_attendance_load_days') }}
),

current_loads as (
    {{ current_loads('kaoqin') }}
),

calendar as (
    select * from {{ ref('stg_jiaoyu__calendar_days') }}
),

final as (
    select distinct
        load_days.term_id,
        load_days.school_code,
        load_days.day
    from load_days
    inner join current_loads on load_days.load_id = current_loads.load_id
    inner join calendar
        on load_days.term_id = calendar.term_id
        and load_days.day = calendar.day
        and calendar.is_school_day
)

select * from final
