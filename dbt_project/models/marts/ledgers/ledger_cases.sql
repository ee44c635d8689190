-- 一人一案台账: every case open during a term, as it stood at the term's end (one row
-- per case and term); the writer adds the child's name and number and the 责任人's name
-- from pii by key.
with case_terms as (
    select * from {{ ref('int_case_terms') }}
),

cases as (
    select * from {{ ref('fct_case') }}
),

stages as (
    select * from {{ ref('code_values') }}
    where code_list = 'case_stage'
),

regions as (
    select * from {{ ref('dim_region') }}
),

final as (
    select
        case_terms.term_id,
        case_terms.case_id,
        cases.case_no,
        case_terms.township_code,
        coalesce(townships.region_name, '未知乡镇') as sheet_name,
        case_terms.child_key,
        case_terms.responsible_key,
        cases.opened_term_id,
        cases.opened_on,
        cases.case_type_label,
        case_terms.case_status,
        case_terms.case_status in ('销号', '核销') as is_closed,
        stages.value as stage_label,
        case_terms.actions,
        case_terms.last_action_on,
        case_terms.dropout_reason,
        case_terms.is_action_overdue,
        case when case_terms.is_action_overdue then '是' else '否' end as is_action_overdue_label,
        case when case_terms.is_escalation_overdue then '是' else '否' end as is_escalation_overdue_label,
        case when case_terms.case_status in ('销号', '核销') then cases.closing_reason end as closing_reason
    from case_terms
    inner join cases
        on case_terms.case_id = cases.case_id
    inner join stages
        on stages.detail::int = case_terms.stage
    left join regions as townships
        on case_terms.township_code = townships.region_code
)

select * from final
