-- Per term, school and reported day: the grid's student-days by status. The 日报, 周报
-- and 月报 (macros/attendance_period_report.sql) sum these few thousand rows per period
-- instead of grouping millions of student-days once per period.
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),

final as (
    select
        term_id,
        school_code,
        day,
        count(*) as student_days,
        count(*) filter (where attendance_kind = 'present') as present_days,
        count(*) filter (where attendance_kind = 'excused') as excused_days,
        count(*) filter (where attendance_kind = 'unexcused') as unexcused_days
    from grid
    group by term_id, school_code, day
)

select * from final
