{{ config(**frozen_period(['term_id', 'month_start'], null_is_county=false)) }}
-- depends_on: {{ ref('int_terms') }}
-- 学校月报（冻结）: each school's month as reported ("四个一": schools report monthly).
-- Only the latest term in the warehouse is (re)written, and of it only the latest month
-- already stored and later ones: a month is frozen once a later month has been
-- reported, whatever later deliveries say about it. Every student on a school's grid has
-- a row on each day the school reported, so the month's students and student-days come
-- from the per-school-day totals; of the grid only the days a student was not present
-- are read, for the students never present and those with unexcused days.
{% if is_incremental() %}
with latest_term as (
    select max(term_id) as term_id from {{ ref('int_terms') }}
),

-- the latest term, from its latest stored month on
reopened as (
    select latest_term.term_id, coalesce(max(frozen.month_start), '1900-01-01'::date) as from_day
    from latest_term
    left join {{ this }} as frozen
        on frozen.term_id = latest_term.term_id
    group by latest_term.term_id
),

grid as (
    select int_attendance_grid.*
    from {{ ref('int_attendance_grid') }} as int_attendance_grid
    inner join reopened
        on int_attendance_grid.term_id = reopened.term_id
        and int_attendance_grid.day >= reopened.from_day
),

totals as (
    select int_attendance_school_day_totals.*
    from {{ ref('int_attendance_school_day_totals') }} as int_attendance_school_day_totals
    inner join reopened
        on int_attendance_school_day_totals.term_id = reopened.term_id
        and int_attendance_school_day_totals.day >= reopened.from_day
),
{% else %}
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),

totals as (
    select * from {{ ref('int_attendance_school_day_totals') }}
),
{% endif %}

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

school_months as (
    select
        term_id,
        school_code,
        date_trunc('month', day)::date as month_start,
        -- each student on the school's grid has a row on every day the school reported
        max(student_days) as students,
        count(*) as reported_days,
        sum(student_days) as student_days,
        sum(present_days) as present_days,
        sum(excused_days) as excused_days,
        sum(unexcused_days) as unexcused_days
    from totals
    group by term_id, school_code, date_trunc('month', day)
),

student_absences as (
    select
        term_id,
        school_code,
        date_trunc('month', day)::date as month_start,
        student_key,
        count(*) as absent_days,
        count(*) filter (where attendance_kind = 'unexcused') as unexcused_days
    from grid
    where attendance_kind <> 'present'
    group by term_id, school_code, date_trunc('month', day), student_key
),

absence_counts as (
    select
        student_absences.term_id,
        student_absences.school_code,
        student_absences.month_start,
        count(*) filter (where student_absences.absent_days = school_months.reported_days) as students_never_present,
        count(*) filter (where student_absences.unexcused_days >= {{ var('monthly_unexcused_days') }})
            as students_with_unexcused_days
    from student_absences
    inner join school_months
        on student_absences.term_id = school_months.term_id
        and student_absences.school_code = school_months.school_code
        and student_absences.month_start = school_months.month_start
    group by student_absences.term_id, student_absences.school_code, student_absences.month_start
),

final as (
    select
        school_months.term_id,
        school_months.school_code,
        schools.township_code,
        school_months.month_start,
        school_months.students,
        school_months.reported_days,
        school_months.present_days as present_student_days,
        school_months.excused_days as excused_student_days,
        school_months.unexcused_days as unexcused_student_days,
        round(school_months.present_days::numeric / nullif(school_months.student_days, 0), 4)
            as attendance_rate,
        coalesce(absence_counts.students_never_present, 0) as students_never_present,
        coalesce(absence_counts.students_with_unexcused_days, 0) as students_with_unexcused_days,
        now() as frozen_at
    from school_months
    left join schools
        on school_months.term_id = schools.term_id
        and school_months.school_code = schools.school_code
    left join absence_counts
        on school_months.term_id = absence_counts.term_id
        and school_months.school_code = absence_counts.school_code
        and school_months.month_start = absence_counts.month_start
)

select * from final
