{{ config(**frozen_period('term_id')) }}
-- depends_on: {{ ref('int_terms') }}
-- 学期报表（冻结）: the county's per-term figures as reported. A term's rows are written
-- while it is the latest term in the warehouse (a corrected delivery still changes
-- them) and never rewritten once a later term has been loaded: a closed period's report does
-- not change when later data arrive. full_refresh is off so that `dbt build
-- --full-refresh` cannot rewrite history either.
with indicators as (
    select * from {{ ref('agg_indicators') }}
),

case_counts as (
    select * from {{ ref('agg_case_counts') }}
),

case_totals as (
    select
        term_id,
        unit_level,
        unit_code,
        priority_group,
        sum(cases) filter (where case_status not in ('销号', '核销')) as open_cases,
        sum(cases) filter (where case_status in ('销号', '核销')) as closed_cases,
        sum(action_overdue_cases) as action_overdue_cases,
        sum(escalation_overdue_cases) as escalation_overdue_cases
    from case_counts
    group by term_id, unit_level, unit_code, priority_group
),

final as (
    select
        indicators.*,
        coalesce(case_totals.open_cases, 0)::bigint as open_cases,
        coalesce(case_totals.closed_cases, 0)::bigint as closed_cases,
        coalesce(case_totals.action_overdue_cases, 0)::bigint as action_overdue_cases,
        coalesce(case_totals.escalation_overdue_cases, 0)::bigint as escalation_overdue_cases,
        now() as frozen_at
    from indicators
    left join case_totals
        on indicators.term_id = case_totals.term_id
        and indicators.unit_level = case_totals.unit_level
        and indicators.unit_code = case_totals.unit_code
        and indicators.priority_group = case_totals.priority_group
    {% if is_incremental() %}
    where indicators.term_id = (select max(term_id) from {{ ref('int_terms') }})
        or indicators.term_id not in (select frozen.term_id from {{ this }} as frozen)
    {% endif %}
)

select * from final
