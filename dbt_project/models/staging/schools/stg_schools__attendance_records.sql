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

attendance_codes as (
    select value, code, detail
    from {{ ref('code_values') }}
    where code_list = 'attendance_status'
),

final as (
    select
        delivered.load_id,
        delivered.term_id,
        delivered.school_code,
        delivered.day::date as day,
        student_keys.student_key,
        delivered.attendance_status,
        attendance_codes.code as attendance_status_code,
        attendance_codes.detail as attendance_kind
    from delivered
    inner join student_keys
        on delivered.student_no = student_keys.student_no
    left join attendance_codes
        on delivered.attendance_status = attendance_codes.value
)

select * from final
