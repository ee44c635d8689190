{{ config(**frozen_period(['term_id', 'month_start'], null_is_county=false)) }}
-- depends_on: {{ ref('int_terms') }}
-- 学校月报（冻结）: each school's month as reported ("四个一": schools report monthly).
-- Only the latest term in the warehouse is (re)written, and of it only the latest month
-- already stored and later ones: a month is frozen once a later month has been
-- reported, whatever later deliveries say about it.
{% if is_incremental() %}
with latest_term as (
    select max(term_id) as term_id from {{ ref('int_terms') }}
),

reopened_from as (
    select coalesce(max(frozen.month_start), '1900-01-01'::date) as month_start
    from {{ this }} as frozen
    inner join latest_term on frozen.term_id = latest_term.term_id
),

grid as (
    select int_attendance_grid.*
    from {{ ref('int_attendance_grid') }} as int_attendance_grid
    inner join latest_term on int_attendance_grid.term_id = latest_term.term_id
    cross join reopened_from
    where int_attendance_grid.day >= reopened_from.month_start
),
{% else %}
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),
{% endif %}

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

student_months as (
    select
        term_id,
        school_code,
        date_trunc('month', day)::date as month_start,
        student_key,
        count(*) as school_days,
        count(*) filter (where attendance_kind = 'present') as present_days,
        count(*) filter (where attendance_kind = 'excused') as excused_days,
        count(*) filter (where attendance_kind = 'unexcused') as unexcused_days
    from grid
    group by term_id, school_code, date_trunc('month', day), student_key
),

final as (
    select
        student_months.term_id,
        student_months.school_code,
        schools.township_code,
        student_months.month_start,
        count(*) as students,
        max(student_months.school_days) as reported_days,
        sum(student_months.present_days) as present_student_days,
        sum(student_months.excused_days) as excused_student_days,
        sum(student_months.unexcused_days) as unexcused_student_days,
        round(sum(student_months.present_days)::numeric / nullif(sum(student_months.school_days), 0), 4)
            as attendance_rate,
        count(*) filter (where student_months.present_days = 0) as students_never_present,
        count(*) filter (where student_months.unexcused_days >= {{ var('monthly_unexcused_days') }})
            as students_with_unexcused_days,
        now() as frozen_at
    from student_months
    left join schools
        on student_months.term_id = schools.term_id
        and student_months.school_code = schools.school_code
    group by student_months.term_id, student_months.school_code, schools.township_code, student_months.month_start
)

select * from final
