{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- Cases by term, reporting unit, 重点群体, status and 四步法 stage, as they stood at the
-- end of each term (int_case_terms): the 台账 summary townships and the bureau report.
-- A case counts at county level, in its township, and at its school when it has one
-- (适龄失学 cases have no school).
with case_terms as (
    select * from {{ ref('int_case_terms') }}
),

groups as (
    select * from {{ ref('int_child_priority_groups') }}
),

counties as (
    select distinct term_id, unit_code as county_code
    from {{ ref('int_indicator_units') }}
    where unit_level = 'county'
),

code_values as (
    select * from {{ ref('code_values') }}
),

units as (
    select case_terms.*, 'county' as unit_level, coalesce(counties.county_code, 'county') as unit_code
    from case_terms
    left join counties on case_terms.term_id = counties.term_id
    union all
    select case_terms.*, 'township', case_terms.township_code
    from case_terms
    where case_terms.township_code is not null
    union all
    select case_terms.*, 'school', case_terms.school_code
    from case_terms
    where case_terms.school_code is not null
),

grouped as (
    -- A child absent from a term's feeds is still in 全部.
    select units.*, coalesce(groups.priority_group, '全部') as priority_group
    from units
    left join groups
        on units.term_id = groups.term_id
        and units.child_key = groups.child_key
),

aggregated as (
    select
        term_id,
        unit_level,
        unit_code,
        case unit_level when 'county' then null else min(township_code) end as township_code,
        priority_group,
        case_status,
        stage,
        count(*) as cases,
        count(*) filter (where is_action_overdue) as action_overdue_cases,
        count(*) filter (where is_escalation_overdue) as escalation_overdue_cases
    from grouped
    group by term_id, unit_level, unit_code, priority_group, case_status, stage
),

final as (
    select
        aggregated.term_id,
        aggregated.unit_level,
        aggregated.unit_code,
        aggregated.township_code,
        aggregated.priority_group,
        aggregated.case_status,
        statuses.code as case_status_code,
        aggregated.stage,
        stages.value as stage_label,
        aggregated.cases,
        aggregated.action_overdue_cases,
        aggregated.escalation_overdue_cases
    from aggregated
    inner join code_values as statuses
        on statuses.code_list = 'case_status' and aggregated.case_status = statuses.value
    inner join code_values as stages
        on stages.code_list = 'case_stage' and aggregated.stage = stages.detail::int
)

select * from final
