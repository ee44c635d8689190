-- Every (student, school) pair the term knows of - 在读/休学 registrations at the
-- school and anyone the school took a roll call for - crossed with the school's
-- reported days. A day with no row for the student is unexcused (SPEC §3).
with registrations as (
    select * from {{ ref('int_registrations') }}
),

attendance_days as (
    select * from {{ ref('int_attendance_days') }}
),

reported_days as (
    select * from {{ ref('int_school_reporting') }}
),

pairs as (
    select term_id, school_code, student_key
    from registrations
    where registry_status in ('在读', '休学')
    union
    select term_id, school_code, student_key
    from attendance_days
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
)

select * from final
