-- 辍学台账: every 适龄失学 finding with the child's latest 劝返 action of the term.
with findings as (
    select * from {{ ref('fct_findings') }}
),

children as (
    select * from {{ ref('dim_child') }}
),

-- every 劝返 record of the term, also one outside a case episode (a 辍学台账 shows it)
actions as (
    select * from {{ ref('stg_quanfan__persuasion_actions') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

last_action as (
    select distinct on (term_id, child_key) term_id, child_key, action_on, action_method, action_result
    from actions
    order by term_id, child_key, action_on desc, action_method, action_result
),

final as (
    select
        findings.term_id,
        findings.township_code,
        coalesce(townships.region_name, '未知乡镇') as sheet_name,
        findings.child_key,
        children.sex,
        children.birth_date,
        villages.region_name as hukou_village,
        findings.stage,
        findings.details ->> 'reason_label' as reason_label,
        findings.details ->> 'summary' as summary,
        case
            when last_action.action_on is null then '无'
            else last_action.action_on || ' ' || last_action.action_method
        end as last_action,
        last_action.action_result
    from findings
    inner join children
        on findings.child_key = children.child_key
    left join regions as villages
        on children.hukou_region_code = villages.region_code
    left join regions as townships
        on findings.township_code = townships.region_code
    left join last_action
        on findings.term_id = last_action.term_id
        and findings.child_key = last_action.child_key
    where findings.finding_type = 'out_of_school'
)

select * from final
