-- 人籍不一致: present at school S under a 学籍号 that is not 在读/休学 at S.
with runs as (
    select * from {{ ref('int_attendance_runs') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

students as (
    select * from {{ ref('int_student_children') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

registered_here as (
    select distinct term_id, school_code, student_key
    from registrations
    where is_on_roll
),

registry_elsewhere as (
    select
        term_id,
        student_key,
        string_agg(school_code || ' ' || registry_status, '、' order by school_code) as registry
    from registrations
    group by term_id, student_key
),

final as (
    select
        runs.term_id,
        'unregistered_attendance' as finding_type,
        students.child_key,
        runs.school_code,
        schools.township_code,
        jsonb_build_object(
            'summary', '在本校有 ' || runs.present_days || ' 天出勤，但学籍' || coalesce(
                '为：' || registry_elsewhere.registry, '系统中查无此学籍号'
            ),
            'feeds', jsonb_build_array('考勤', '学籍'),
            'present_days', runs.present_days,
            'registry', registry_elsewhere.registry
        ) as details
    from runs
    inner join students
        on runs.term_id = students.term_id
        and runs.student_key = students.student_key
    left join registered_here
        on runs.term_id = registered_here.term_id
        and runs.school_code = registered_here.school_code
        and runs.student_key = registered_here.student_key
    left join registry_elsewhere
        on runs.term_id = registry_elsewhere.term_id
        and runs.student_key = registry_elsewhere.student_key
    left join schools
        on runs.term_id = schools.term_id
        and runs.school_code = schools.school_code
    where runs.present_days > 0
        and registered_here.student_key is null
)

select * from final
