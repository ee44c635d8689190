{{ config(post_hook="{{ township_row_security() }}", grants={'+select': ['kcbx_township']}) }}
-- Child x term: the child's registry position this term. With several 学籍 rows the
-- most active one is shown (在读 over 休学 over the rest; county schools first).
with children as (
    select * from {{ ref('int_child_terms') }}
),

primary_registration as (
    select * from {{ ref('int_primary_registrations') }}
),

final as (
    select
        children.term_id,
        children.child_key,
        primary_registration.school_code,
        primary_registration.grade,
        -- 学段: the registered grade's; with no registration, the grade the birth date implies
        coalesce(
            {{ stage_of('primary_registration.grade') }},
            {{ stage_of(expected_grade('children.birth_date', school_year('children.term_id'))) }}
        ) as stage,
        primary_registration.registry_status,
        primary_registration.study_mode,
        children.home_township_code as township_code,
        children.registrations,
        children.in_cohort,
        children.is_county_responsibility,
        children.is_enrolled,
        children.is_exempt,
        children.has_completed
    from children
    left join primary_registration
        on children.term_id = primary_registration.term_id
        and children.child_key = primary_registration.child_key
)

select * from final
