-- 向区域发布：月报. Per month of the term, county and township: open and overdue cases and
-- new warnings (frozen_case_months) beside the month's attendance (frozen_school_months),
-- the region's 月报制 upward report.
with case_months as (
    select * from {{ ref('frozen_case_months') }}
),

school_months as (
    select * from {{ ref('frozen_school_months') }}
),

attendance_units as (
    select
        term_id, month_start, 'county' as unit_level, null::text as township_code, school_code, reported_days,
        students, present_student_days, excused_student_days, unexcused_student_days, students_with_unexcused_days
    from school_months
    union all
    select
        term_id, month_start, 'township' as unit_level, township_code, school_code, reported_days,
        students, present_student_days, excused_student_days, unexcused_student_days, students_with_unexcused_days
    from school_months
),

attendance as (
    select
        attendance_units.term_id,
        attendance_units.month_start,
        attendance_units.unit_level,
        attendance_units.township_code,
        count(distinct attendance_units.school_code) filter (where attendance_units.reported_days > 0)
            as reporting_schools,
        sum(attendance_units.students) as students,
        sum(attendance_units.present_student_days) as present_student_days,
        sum(
            attendance_units.present_student_days + attendance_units.excused_student_days
            + attendance_units.unexcused_student_days
        ) as student_days,
        sum(attendance_units.students_with_unexcused_days) as students_with_unexcused_days
    from attendance_units
    group by 1, 2, 3, 4
),

-- every month either source has: frozen_case_months holds the months a build saw as
-- current (from the first build on), frozen_school_months every reported month
units as (
    select term_id, month_start::date as month_start, unit_level::text as unit_level, township_code::text
    from case_months
    union
    select term_id, month_start, unit_level, township_code
    from attendance
),

final as (
    select
        units.term_id,
        units.month_start,
        units.unit_level,
        units.township_code,
        -- null, not 0, for a month no build saw as current: its cases were never counted
        case_months.open_cases::bigint as open_cases,
        case_months.action_overdue_cases::bigint as action_overdue_cases,
        case_months.escalation_overdue_cases::bigint as escalation_overdue_cases,
        case_months.new_warnings::bigint as new_warnings,
        case_months.warned_children::bigint as warned_children,
        coalesce(attendance.reporting_schools, 0)::bigint as reporting_schools,
        coalesce(attendance.students, 0)::bigint as students,
        coalesce(attendance.present_student_days, 0)::bigint as present_student_days,
        coalesce(attendance.student_days, 0)::bigint as student_days,
        round(attendance.present_student_days::numeric / nullif(attendance.student_days, 0), 4) as attendance_rate,
        coalesce(attendance.students_with_unexcused_days, 0)::bigint as students_with_unexcused_days
    from units
    left join case_months
        on units.term_id = case_months.term_id
        and units.month_start = case_months.month_start
        and units.unit_level = case_months.unit_level
        and units.township_code is not distinct from case_months.township_code
    left join attendance
        on units.term_id = attendance.term_id
        and units.month_start = attendance.month_start
        and units.unit_level = attendance.unit_level
        and units.township_code is not distinct from attendance.township_code
)

select * from final
