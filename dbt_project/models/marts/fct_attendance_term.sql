-- Child x school x term attendance over the school's reported days; a reported day
-- with no roll call for the student counts as unexcused.
with runs as (
    select * from {{ ref('int_attendance_runs') }}
),

students as (
    select * from {{ ref('int_student_children') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

final as (
    select
        md5(concat_ws('|', runs.term_id, runs.school_code, runs.student_key)) as attendance_term_id,
        runs.term_id,
        students.child_key,
        runs.student_key,
        runs.school_code,
        terms.school_days,
        runs.reported_days,
        runs.present_days,
        runs.excused_days,
        runs.unexcused_days,
        runs.longest_unexcused_run,
        runs.current_unexcused_run,
        runs.last_present_on,
        runs.last_reported_on
    from runs
    inner join students
        on runs.term_id = students.term_id
        and runs.student_key = students.student_key
    inner join terms
        on runs.term_id = terms.term_id
)

select * from final
