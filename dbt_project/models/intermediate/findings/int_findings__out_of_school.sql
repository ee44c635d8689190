-- 适龄失学: a county-responsibility child of compulsory age with no 在读/休学 学籍,
-- not exempt (延缓/免于入学) and not graduated.
with children as (
    select * from {{ ref('int_child_terms') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

registry_statuses as (
    select term_id, child_key, string_agg(distinct registry_status, '、') as statuses
    from registrations
    group by term_id, child_key
),

final as (
    select
        children.term_id,
        'out_of_school' as finding_type,
        children.child_key,
        null::text as school_code,
        children.home_township_code as township_code,
        jsonb_build_object(
            'summary', '适龄儿童未在校：' || case
                when registry_statuses.statuses is null then '学籍系统中无该儿童学籍'
                else '学籍状态为' || registry_statuses.statuses
            end,
            'feeds', jsonb_build_array('户籍', '学籍'),
            'hukou_status', children.hukou_status,
            'registry_statuses', registry_statuses.statuses,
            'birth_date', children.birth_date
        ) as details
    from children
    left join registry_statuses
        on children.term_id = registry_statuses.term_id
        and children.child_key = registry_statuses.child_key
    where children.is_county_responsibility
        and children.in_cohort
        and not children.is_enrolled
        and not children.is_exempt
        and not children.has_completed
)

select * from final
