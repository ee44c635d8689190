-- Which child a 学籍号 belongs to. A 学籍号 the registry does not know (seen only in
-- attendance) is its own child, keyed by the 学籍号 (student_key).
with registrations as (
    select * from {{ ref('int_registrations') }}
),

attendance_days as (
    select * from {{ ref('int_attendance_days') }}
),

registered as (
    select distinct on (term_id, student_key)
        term_id,
        student_key,
        child_key
    from registrations
    order by term_id, student_key, has_id_number desc
),

attendance_only as (
    select distinct
        attendance_days.term_id,
        attendance_days.student_key,
        attendance_days.student_key as child_key
    from attendance_days
    left join registered
        on attendance_days.term_id = registered.term_id
        and attendance_days.student_key = registered.student_key
    where registered.student_key is null
),

final as (
    select * from registered
    union all
    select * from attendance_only
)

select * from final
