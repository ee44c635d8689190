with delivered as (
    {{ current_rows('schools', 'kaoqin') }}
),

-- Attendance is the large feed: join the key map once rather than look up per row.
student_keys as (
    select
        substring(material from 9) as student_no,
        child_key as student_key
    from {{ source('pii', 'child_keys') }}
    where material like 'student:%'
),

final as (
    select
        delivered.term_id,
        delivered.school_code,
        delivered.day::date as day,
        student_keys.student_key,
        delivered.attendance_status,
        case
            when delivered.attendance_status in ('出勤', '迟到') then 'present'
            when delivered.attendance_status in ('病假', '事假') then 'excused'
            else 'unexcused'
        end as attendance_kind
    from delivered
    inner join student_keys
        on delivered.student_no = student_keys.student_no
)

select * from final
