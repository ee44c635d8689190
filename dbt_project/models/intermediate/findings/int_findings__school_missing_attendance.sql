-- 学校未报考勤: a county school with 在读 students that sent no attendance this term.
-- Its students cannot be checked for phantom enrolment or dropout until it does.
with registrations as (
    select * from {{ ref('int_registrations') }}
),

reporting as (
    select distinct term_id, school_code from {{ ref('int_school_reporting') }}
),

silent as (
    select
        registrations.term_id,
        registrations.school_code,
        registrations.school_township_code,
        count(*) as enrolled_students
    from registrations
    left join reporting
        on registrations.term_id = reporting.term_id
        and registrations.school_code = reporting.school_code
    where registrations.registry_status_code = 'enrolled'
        and registrations.is_county_school
        and reporting.school_code is null
    group by registrations.term_id, registrations.school_code, registrations.school_township_code
),

final as (
    select
        term_id,
        'school_missing_attendance' as finding_type,
        null::text as child_key,
        school_code,
        school_township_code as township_code,
        jsonb_build_object(
            'summary', '学校有在读学生 ' || enrolled_students || ' 人，本学期未上报任何考勤',
            'feeds', jsonb_build_array('学籍', '考勤'),
            'enrolled_students', enrolled_students
        ) as details
    from silent
)

select * from final
