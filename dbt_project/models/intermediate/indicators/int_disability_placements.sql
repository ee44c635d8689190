-- Child x term: the placement (安置方式) of each disabled child (in the 残联 list) of the
-- compulsory cohort the county is responsible for, from its current 学籍 (the registration
-- fct_enrolment shows: 在读 over 休学 over the rest, county schools first):
--   送教上门        在读/休学 with 就读方式 送教上门;
--   特殊教育学校    在读/休学 at a school whose 办学类型 is 特殊教育学校, or 就读方式 特教学校;
--   随班就读        any other 在读/休学 (a regular school's class, whatever 就读方式 says);
--   缓免学          exempt (延缓入学/免于入学);
--   未安置          otherwise (no 学籍, 辍学, 转出, graduated)  - macros/disability_placement.sql.
-- The 残联's own 安置建议 is kept beside it.
with children as (
    select * from {{ ref('int_child_terms') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

current_registration as (
    select * from {{ ref('int_primary_registrations') }}
),

final as (
    select
        children.term_id,
        children.child_key,
        children.home_township_code as township_code,
        children.disability_category,
        children.placement_advice,
        current_registration.school_code,
        current_registration.study_mode,
        children.is_exempt and not children.is_enrolled as is_exempt,
        {{ disability_placement(
            'coalesce(current_registration.is_on_roll, false)',
            'current_registration.study_mode',
            'schools.school_type',
            'children.is_exempt and not children.is_enrolled',
        ) }} as placement
    from children
    left join current_registration
        on children.term_id = current_registration.term_id
        and children.child_key = current_registration.child_key
    left join schools
        on current_registration.term_id = schools.term_id
        and current_registration.school_code = schools.school_code
    where children.disability_category is not null
        and children.in_cohort
        and children.is_county_responsibility
)

select * from final
