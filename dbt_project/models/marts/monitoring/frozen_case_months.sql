{{ config(**frozen_period(['term_id', 'month_start'])) }}
-- 案件与预警月报（冻结）: per county and township, the cases open and overdue and the
-- early warnings of a month, as the last build of that month saw them. The month is the
-- latest term's latest reported school day's; a month's rows are written while it is the
-- data's current month and never again once a later month has been reported, so the
-- monthly 通报 printed from them does not change afterwards.
with terms as (
    select * from {{ ref('int_terms') }}
),

reporting as (
    select * from {{ ref('int_school_reporting') }}
),

case_terms as (
    select * from {{ ref('int_case_terms') }}
),

warnings as (
    select * from {{ ref('fct_early_warnings') }}
),

counties as (
    {{ county_codes() }}
),

data_month as (
    select reporting.term_id, date_trunc('month', max(reporting.day))::date as month_start
    from reporting
    where reporting.term_id = (select max(term_id) from terms)
    group by reporting.term_id
),

current_month as (
    select data_month.*
    from data_month
    {% if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as frozen
        where frozen.term_id = data_month.term_id
            and frozen.month_start > data_month.month_start
    )
    {% endif %}
),

month_cases as (
    select
        case_terms.term_id,
        current_month.month_start,
        {{ unit_level_of('case_terms.township_code', none) }} as unit_level,
        case_terms.township_code,
        count(*) filter (where case_terms.case_status not in ('销号', '核销')) as open_cases,
        count(*) filter (where case_terms.is_action_overdue) as action_overdue_cases,
        count(*) filter (where case_terms.is_escalation_overdue) as escalation_overdue_cases
    from case_terms
    inner join current_month
        on case_terms.term_id = current_month.term_id
    group by grouping sets (
        (case_terms.term_id, current_month.month_start, case_terms.township_code),
        (case_terms.term_id, current_month.month_start)
    )
),

month_warnings as (
    select
        warnings.term_id,
        current_month.month_start,
        {{ unit_level_of('warnings.township_code', none) }} as unit_level,
        warnings.township_code,
        count(*) filter (where warnings.is_new) as new_warnings,
        count(distinct warnings.child_key) as warned_children
    from warnings
    inner join current_month
        on warnings.term_id = current_month.term_id
        and date_trunc('month', warnings.warned_on)::date = current_month.month_start
    group by grouping sets (
        (warnings.term_id, current_month.month_start, warnings.township_code),
        (warnings.term_id, current_month.month_start)
    )
),

units as (
    select term_id, month_start, unit_level, township_code from month_cases
    union
    select term_id, month_start, unit_level, township_code from month_warnings
    union
    select current_month.term_id, current_month.month_start, 'county', null from current_month
),

final as (
    select
        units.term_id,
        units.month_start,
        units.unit_level,
        case units.unit_level when 'county' then coalesce(counties.county_code, 'county') else units.township_code end
            as unit_code,
        units.township_code,
        coalesce(month_cases.open_cases, 0)::bigint as open_cases,
        coalesce(month_cases.action_overdue_cases, 0)::bigint as action_overdue_cases,
        coalesce(month_cases.escalation_overdue_cases, 0)::bigint as escalation_overdue_cases,
        coalesce(month_warnings.new_warnings, 0)::bigint as new_warnings,
        coalesce(month_warnings.warned_children, 0)::bigint as warned_children,
        now() as frozen_at
    from units
    left join month_cases
        on units.term_id = month_cases.term_id
        and units.unit_level = month_cases.unit_level
        and units.township_code is not distinct from month_cases.township_code
    left join month_warnings
        on units.term_id = month_warnings.term_id
        and units.unit_level = month_warnings.unit_level
        and units.township_code is not distinct from month_warnings.township_code
    left join counties
        on units.term_id = counties.term_id
    where units.unit_level = 'county' or units.township_code is not null
)

select * from final
