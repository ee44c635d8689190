{{ config(post_hook='analyze {{ this }}') }}
-- Every (student, school) pair a term knows of: 在读/休学 registrations at the school
-- and anyone the school took a roll call for. Each is owed a status on every day the
-- school reported.
with registrations as (
    select * from {{ ref('int_registrations') }}
),

attendance_days as (
    select * from {{ ref('int_attendance_days') }}
),

final as (
    select term_id, school_code, student_key
    from registrations
    where registry_status_code in ('enrolled', 'suspended')
    union
    select term_id, school_code, student_key
    from attendance_days
)

select * from final
