-- Every (student, school) pair a term knows of: 在读/休学 registrations at the school
-- and anyone the school took a roll call for. Each is owed a status on every day the
-- school reported, except a pair taught at home (就读方式 送教上门, SPEC §3): schools do
-- not roll-call home teaching, so only its delivered roll calls count.
with registrations as (
    select * from {{ ref('int_registrations') }}
),

attendance_days as (
    select * from {{ ref('int_attendance_days') }}
),

on_roll as (
    select
        term_id,
        school_code,
        student_key,
        bool_or(study_mode = '送教上门') as is_home_taught
    from registrations
    where is_on_roll
    group by term_id, school_code, student_key
),

roll_called as (
    select distinct term_id, school_code, student_key
    from attendance_days
),

final as (
    select
        coalesce(on_roll.term_id, roll_called.term_id) as term_id,
        coalesce(on_roll.school_code, roll_called.school_code) as school_code,
        coalesce(on_roll.student_key, roll_called.student_key) as student_key,
        coalesce(on_roll.is_home_taught, false) as is_home_taught
    from on_roll
    full join roll_called
        on on_roll.term_id = roll_called.term_id
        and on_roll.school_code = roll_called.school_code
        and on_roll.student_key = roll_called.student_key
)

select * from final
