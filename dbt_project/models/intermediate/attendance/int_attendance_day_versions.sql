-- (term, day) -> the version of that day's roll calls: whether it is a school day and
-- which attendance files (by content hash) cover it. See macros/day_slices/.
with calendar as (
    select * from {{ ref('stg_jiaoyu__calendar_days') }}
),

load_days as (
    select * from {{ ref('int_attendance_load_days') }}
),

current_loads as (
    {{ current_loads('kaoqin') }}
),

day_loads as (
    select
        load_days.term_id,
        load_days.day,
        string_agg(distinct current_loads.sha256, ',' order by current_loads.sha256) as files
    from load_days
    inner join current_loads on load_days.load_id = current_loads.load_id
    group by load_days.term_id, load_days.day
),

final as (
    select
        calendar.term_id,
        calendar.day,
        md5(concat_ws('|', calendar.is_school_day, day_loads.files)) as version
    from calendar
    left join day_loads
        on calendar.term_id = day_loads.term_id
        and calendar.day = day_loads.day
)

select * from final
