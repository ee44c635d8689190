-- 学籍 rows with the school they belong to: a county school is one in the term's
-- schools feed.
with registrations as (
    select * from {{ ref('stg_jiaoyu__student_registrations') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

final as (
    select
        registrations.term_id,
        registrations.child_key,
        registrations.student_key,
        registrations.has_id_number,
        registrations.birth_date,
        registrations.sex,
        registrations.school_code,
        schools.school_code is not null as is_county_school,
        schools.township_code as school_township_code,
        registrations.grade,
        registrations.class_name,
        registrations.registry_status,
        registrations.registry_status_code,
        registrations.study_mode,
        registrations.status_changed_on
    from registrations
    left join schools
        on registrations.term_id = schools.term_id
        and registrations.school_code = schools.school_code
)

select * from final
