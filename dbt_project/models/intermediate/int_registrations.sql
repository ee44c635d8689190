-- 学籍 rows with the school they belong to: a county school is one in the term's
-- schools feed; registry_rank orders a child's registrations and is_on_roll marks the
-- statuses that keep a child on the roll (在读, 休学), both from seeds/code_values.csv.
with registrations as (
    select * from {{ ref('stg_jiaoyu__student_registrations') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

statuses as (
    select value as registry_status, detail::int as registry_rank, is_on_roll
    from {{ ref('code_values') }}
    where code_list = 'registry_status'
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
        -- which registration a child's figures show first when it has several
        statuses.registry_rank,
        -- on the school's roll (在籍: 在读 or 休学)
        statuses.is_on_roll,
        registrations.study_mode,
        registrations.status_changed_on
    from registrations
    left join schools
        on registrations.term_id = schools.term_id
        and registrations.school_code = schools.school_code
    left join statuses
        on registrations.registry_status = statuses.registry_status
)

select * from final
