-- 适龄儿童台账: every county-responsibility child of the compulsory cohort, one row per
-- child and term, with what the workbook shows beside the name and number (which the
-- writer adds from pii.child_identity by child_key).
with enrolment as (
    select * from {{ ref('fct_enrolment') }}
),

children as (
    select * from {{ ref('dim_child') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

schools as (
    select * from {{ ref('dim_school') }}
),

-- the confirmation that counts this term (the latest with an effect)
whereabouts as (
    select distinct on (term_id, child_key) term_id, child_key, effect_label, evidence
    from {{ ref('fct_whereabouts') }}
    where effect <> 'none'
    order by term_id, child_key, confirmed_on desc, effect_label
),

final as (
    select
        enrolment.term_id,
        enrolment.township_code,
        coalesce(townships.region_name, '户籍不在本县') as sheet_name,
        enrolment.child_key,
        children.sex,
        children.birth_date,
        villages.region_name as hukou_village,
        children.hukou_status,
        enrolment.registry_status,
        schools.school_name,
        enrolment.grade,
        enrolment.stage,
        case when enrolment.is_enrolled then '是' else '否' end as is_enrolled_label,
        whereabouts.effect_label as whereabouts_status,
        whereabouts.evidence as whereabouts_evidence
    from enrolment
    inner join children
        on enrolment.child_key = children.child_key
    left join regions as villages
        on children.hukou_region_code = villages.region_code
    left join regions as townships
        on enrolment.township_code = townships.region_code
    left join schools
        on enrolment.school_code = schools.school_code
    left join whereabouts
        on enrolment.term_id = whereabouts.term_id
        and enrolment.child_key = whereabouts.child_key
    where enrolment.in_cohort
        and enrolment.is_county_responsibility
)

select * from final
