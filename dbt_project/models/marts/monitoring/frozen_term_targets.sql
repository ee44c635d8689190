{{ config(**frozen_period('term_id')) }}
-- depends_on: {{ ref('int_terms') }}
-- 目标达标（冻结）: each unit's figure against the county's target (seeds/targets.csv),
-- per term, frozen with the term like frozen_term_indicators. 按期结案率: of the term's
-- cases closed or open longer than case_closure_days, the share closed (销号/核销) within
-- case_closure_days of opening. is_met is null when the figure has no denominator.
with indicators as (
    select * from {{ ref('frozen_term_indicators') }}
    where priority_group = '全部'
),

case_terms as (
    select * from {{ ref('int_case_terms') }}
),

targets as (
    select * from {{ ref('targets') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

counties as (
    select distinct term_id, unit_code as county_code
    from indicators
    where unit_level = 'county'
),

closure as (
    select
        term_id,
        {{ unit_level_of('township_code', none) }} as unit_level,
        township_code,
        count(*) filter (where case_status in ('销号', '核销') and days_open <= {{ var('case_closure_days') }}) as closed_on_time,
        count(*) filter (where case_status in ('销号', '核销') or days_open > {{ var('case_closure_days') }}) as cases_due
    from case_terms
    group by grouping sets ((term_id, township_code), (term_id))
),

measured as (
    select term_id, unit_level, unit_code, township_code, 'enrolment_rate' as target, enrolment_rate as value
    from indicators
    union all
    select term_id, unit_level, unit_code, township_code, 'consolidation_rate', consolidation_rate
    from indicators
    union all
    select term_id, unit_level, unit_code, township_code, 'dropout_rate', dropout_rate
    from indicators
    union all
    select
        closure.term_id,
        closure.unit_level,
        case closure.unit_level when 'county' then coalesce(counties.county_code, 'county') else closure.township_code end,
        closure.township_code,
        'case_closure_rate',
        round(closure.closed_on_time::numeric / nullif(closure.cases_due, 0), 4)
    from closure
    left join counties
        on closure.term_id = counties.term_id
    where closure.unit_level = 'county' or closure.township_code is not null
),

final as (
    select
        measured.term_id,
        measured.unit_level,
        measured.unit_code,
        measured.township_code,
        measured.target,
        targets.target_label,
        targets.direction,
        targets.target_value,
        measured.value,
        case
            when measured.value is null then null
            when targets.direction = 'at_least' then measured.value >= targets.target_value
            else measured.value <= targets.target_value
        end as is_met,
        now() as frozen_at
    from measured
    inner join targets
        on measured.target = targets.target
        and measured.unit_level = any(string_to_array(targets.unit_levels, ';'))
    {% if is_incremental() %}
    where measured.term_id = (select max(term_id) from terms)
        or measured.term_id not in (select frozen.term_id from {{ this }} as frozen)
    {% endif %}
)

select * from final
