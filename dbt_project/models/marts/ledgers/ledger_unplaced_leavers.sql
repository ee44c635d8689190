-- 流出未落实台账: children who left a county school this school year (转出 or 辍学 up to
-- the term's last day), are registered in no school that keeps them (not enrolled, exempt
-- or graduated) and whose whereabouts no township has confirmed: the ones to look for.
with changes as (
    select * from {{ ref('fct_registry_change') }}
    where change_type in ('转出', '辍学')
),

terms as (
    select * from {{ ref('int_terms') }}
),

enrolment as (
    select * from {{ ref('fct_enrolment') }}
),

whereabouts as (
    select distinct term_id, child_key
    from {{ ref('fct_whereabouts') }}
    where effect <> 'none'
),

schools as (
    select * from {{ ref('dim_school') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

left_this_year as (
    select distinct on (changes.term_id, changes.child_key)
        changes.term_id,
        changes.child_key,
        changes.change_type,
        changes.changed_on,
        changes.from_school_code,
        changes.reason
    from changes
    inner join terms
        on changes.term_id = terms.term_id
    inner join schools
        on changes.from_school_code = schools.school_code
    where changes.changed_on between make_date(terms.school_year, 9, 1) and terms.last_day
    order by changes.term_id, changes.child_key, changes.changed_on desc, changes.change_type
),

final as (
    select
        left_this_year.term_id,
        enrolment.township_code,
        coalesce(townships.region_name, '未知乡镇') as sheet_name,
        left_this_year.child_key,
        schools.school_name as left_school_name,
        left_this_year.change_type,
        left_this_year.changed_on,
        left_this_year.reason,
        enrolment.stage,
        enrolment.registry_status
    from left_this_year
    inner join enrolment
        on left_this_year.term_id = enrolment.term_id
        and left_this_year.child_key = enrolment.child_key
    left join whereabouts
        on left_this_year.term_id = whereabouts.term_id
        and left_this_year.child_key = whereabouts.child_key
    left join schools
        on left_this_year.from_school_code = schools.school_code
    left join regions as townships
        on enrolment.township_code = townships.region_code
    where not enrolment.is_enrolled
        and not enrolment.is_exempt
        and not enrolment.has_completed
        and whereabouts.child_key is null
)

select * from final
