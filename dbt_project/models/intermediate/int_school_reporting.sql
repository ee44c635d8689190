-- The school days on which each school reported attendance for anyone. A day the
-- school reported nothing is unknown for all its students, not unexcused.
with attendance_days as (
    select * from {{ ref('int_attendance_days') }}
),

final as (
    select distinct
        term_id,
        school_code,
        day
    from attendance_days
)

select * from final
