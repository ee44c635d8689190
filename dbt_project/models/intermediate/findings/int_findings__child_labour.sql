-- 童工: a 人社 child-labour report on a child of compulsory age who was under 16 on
-- the day it was found.
with reports as (
    select * from {{ ref('stg_renshe__child_labour_reports') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

qualifying as (
    select
        reports.term_id,
        reports.child_key,
        min(reports.found_on) as found_on,
        string_agg(distinct reports.work_place, '、') as work_places,
        min(extract(year from age(reports.found_on, reports.birth_date)))::int as age_when_found
    from reports
    inner join terms
        on reports.term_id = terms.term_id
    where reports.birth_date between terms.cohort_first_birth and terms.cohort_last_birth
        and age(reports.found_on, reports.birth_date) < interval '16 years'
    group by reports.term_id, reports.child_key
),

final as (
    select
        qualifying.term_id,
        'child_labour' as finding_type,
        qualifying.child_key,
        null::text as school_code,
        children.home_township_code as township_code,
        jsonb_build_object(
            'summary', qualifying.found_on || ' 人社部门发现适龄儿童务工（时年 ' || qualifying.age_when_found
                || ' 岁），务工地：' || coalesce(qualifying.work_places, '不详'),
            'feeds', jsonb_build_array('童工'),
            'found_on', qualifying.found_on,
            'age_when_found', qualifying.age_when_found
        ) as details
    from qualifying
    inner join children
        on qualifying.term_id = children.term_id
        and qualifying.child_key = children.child_key
)

select * from final
