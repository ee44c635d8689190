-- One row per child and term across every feed: identity resolution. A child is its
-- identity number (child_key); birth date and sex come from the number when known.
with household as (
    select * from {{ ref('int_household_status') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

students as (
    select * from {{ ref('int_student_children') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

monitored as (
    select term_id, child_key, min(monitoring_type) as monitoring_type
    from {{ ref('stg_xiangcun__monitored_people') }}
    group by term_id, child_key
),

disabled as (
    select
        term_id,
        child_key,
        min(disability_category) as disability_category,
        min(disability_grade) as disability_grade,
        min(placement_advice) as placement_advice
    from {{ ref('stg_canlian__disabled_children') }}
    group by term_id, child_key
),

protected as (
    select
        term_id,
        child_key,
        bool_or(protection_category = '孤儿') as is_orphan,
        bool_or(protection_category = '事实无人抚养儿童') as is_de_facto_unsupported,
        bool_or(protection_category = '农村留守儿童') as is_left_behind,
        bool_or(protection_category = '困境儿童') as is_in_hardship,
        bool_or(protection_category = '低保') as is_dibao,
        bool_or(protection_category = '特困供养') as is_tekun
    from {{ ref('stg_minzheng__protected_children') }}
    group by term_id, child_key
),

prisoners_children as (
    select distinct term_id, child_key
    from {{ ref('stg_sifa__prisoners_children') }}
),

whereabouts as (
    select
        term_id,
        child_key,
        bool_or(effect = 'schooled_elsewhere') as is_confirmed_elsewhere,
        bool_or(effect = 'schooled_elsewhere' and source = 'quxiang') as is_confirmed_by_township,
        bool_or(effect = 'schooled_elsewhere' and source = 'region') as is_confirmed_by_region,
        bool_or(effect = 'responsibility_ended') as is_confirmed_gone
    from {{ ref('int_whereabouts') }}
    group by term_id, child_key
),

labour as (
    select term_id, child_key, min(birth_date) as birth_date
    from {{ ref('stg_renshe__child_labour_reports') }}
    group by term_id, child_key
),

persuaded as (
    select distinct term_id, child_key
    from {{ ref('stg_quanfan__persuasion_actions') }}
),

registration_summary as (
    select
        term_id,
        child_key,
        min(birth_date) as birth_date,
        min(sex) as sex,
        bool_or(is_county_school) as has_county_registration,
        bool_or(is_on_roll) as is_enrolled,
        bool_or(registry_status_code in ('deferred', 'exempted')) as is_exempt,
        -- SPEC §3: completion is 毕业 in grade 9. A 毕业 row at grade 6 is 小学毕业: a child
        -- whose registrations end there has not moved on to junior school (小升初).
        bool_or(registry_status_code = 'graduated' and grade = 9) as has_completed,
        min(school_township_code) filter (where is_county_school) as school_township_code,
        count(distinct student_key) as registrations
    from registrations
    group by term_id, child_key
),

all_children as (
    select term_id, child_key from household
    union select term_id, child_key from students
    union select term_id, child_key from monitored
    union select term_id, child_key from disabled
    union select term_id, child_key from protected
    union select term_id, child_key from prisoners_children
    union select term_id, child_key from labour
    union select term_id, child_key from persuaded
),

joined as (
    select
        all_children.term_id,
        all_children.child_key,
        coalesce(household.birth_date, registration_summary.birth_date, labour.birth_date) as birth_date,
        coalesce(household.sex, registration_summary.sex) as sex,
        household.hukou_region_code,
        household.hukou_township_code,
        household.person_status as hukou_status,
        coalesce(household.is_deregistered, false) as is_hukou_deregistered,
        coalesce(household.hukou_township_code, registration_summary.school_township_code) as home_township_code,
        coalesce(registration_summary.has_county_registration, false) as has_county_registration,
        coalesce(registration_summary.is_enrolled, false) as is_enrolled,
        coalesce(registration_summary.is_exempt, false) as is_exempt,
        coalesce(registration_summary.has_completed, false) as has_completed,
        coalesce(registration_summary.registrations, 0) as registrations,
        household.child_key is null and registration_summary.has_county_registration as is_migrant,
        monitored.monitoring_type,
        disabled.disability_category,
        disabled.disability_grade,
        disabled.placement_advice,
        coalesce(protected.is_orphan, false) as is_orphan,
        coalesce(protected.is_de_facto_unsupported, false) as is_de_facto_unsupported,
        coalesce(protected.is_left_behind, false) as is_left_behind,
        coalesce(protected.is_in_hardship, false) as is_in_hardship,
        coalesce(protected.is_dibao, false) as is_dibao,
        coalesce(protected.is_tekun, false) as is_tekun,
        prisoners_children.child_key is not null as is_prisoners_child,
        coalesce(whereabouts.is_confirmed_elsewhere, false) as is_confirmed_elsewhere,
        coalesce(whereabouts.is_confirmed_by_township, false) as is_confirmed_by_township,
        coalesce(whereabouts.is_confirmed_by_region, false) as is_confirmed_by_region,
        coalesce(whereabouts.is_confirmed_gone, false) as is_confirmed_gone,
        terms.cohort_first_birth,
        terms.cohort_last_birth
    from all_children
    inner join terms on all_children.term_id = terms.term_id
    left join household
        on all_children.term_id = household.term_id
        and all_children.child_key = household.child_key
    left join registration_summary
        on all_children.term_id = registration_summary.term_id
        and all_children.child_key = registration_summary.child_key
    left join monitored
        on all_children.term_id = monitored.term_id
        and all_children.child_key = monitored.child_key
    left join disabled
        on all_children.term_id = disabled.term_id
        and all_children.child_key = disabled.child_key
    left join protected
        on all_children.term_id = protected.term_id
        and all_children.child_key = protected.child_key
    left join prisoners_children
        on all_children.term_id = prisoners_children.term_id
        and all_children.child_key = prisoners_children.child_key
    left join labour
        on all_children.term_id = labour.term_id
        and all_children.child_key = labour.child_key
    left join whereabouts
        on all_children.term_id = whereabouts.term_id
        and all_children.child_key = whereabouts.child_key
),

final as (
    select
        *,
        coalesce(birth_date between cohort_first_birth and cohort_last_birth, false) as in_cohort,
        -- a confirmed 死亡/迁出 (去向核实) ends responsibility like the same 户籍 status
        (coalesce(hukou_status in ('正常', '失踪'), false) or has_county_registration)
        and not is_hukou_deregistered
        and not is_confirmed_gone as is_county_responsibility
    from joined
)

select * from final
