{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- 残疾儿童入学率 by placement (三类安置), per term and reporting unit (county / township /
-- school, as agg_indicators: int_indicator_units). Scope: the disabled children (残联 list)
-- of the compulsory cohort the county is responsible for (适龄残疾儿童), each placed by its
-- shown 学籍 (int_disability_placements): 随班就读, 特殊教育学校, 送教上门, 缓免学 or 未安置.
--   入学率 enrolment_rate = (随班就读 + 特殊教育学校 + 送教上门) ÷ 适龄残疾儿童, the same
--     children as agg_indicators' 残疾儿童 group counts enrolled (学籍 在读/休学);
--   each placement's rate = its children ÷ 适龄残疾儿童 (the three add up to 入学率).
-- Exempt (延缓/免于入学, placement 缓免学) children count as 未安置 here and stay in the
-- denominator (decision: an exemption is not schooling); exempt_children shows how many of
-- the 未安置 are exempt. The 残联's 回执 (receipt_canlian_placements) shows 缓免学 apart and
-- counts every cohort child on the list, the county's responsibility or not.
-- Rates are fractions (0.9703 = 97.03%), null when there is no disabled child.
with placements as (
    select * from {{ ref('int_disability_placements') }}
),

units as (
    select * from {{ ref('int_indicator_units') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

aggregated as (
    select
        placements.term_id,
        units.unit_level,
        units.unit_code,
        count(*) as disabled_children,
        count(*) filter (where placements.placement in ('随班就读', '特殊教育学校', '送教上门')) as enrolled_children,
        count(*) filter (where placements.placement = '随班就读') as inclusive_children,
        count(*) filter (where placements.placement = '特殊教育学校') as special_school_children,
        count(*) filter (where placements.placement = '送教上门') as home_taught_children,
        -- 未安置 in the 三类安置 sense: exempt children included, and also counted apart
        count(*) filter (where placements.placement in ('未安置', '缓免学')) as unplaced_children,
        count(*) filter (where placements.placement = '缓免学') as exempt_children
    from placements
    inner join units
        on placements.term_id = units.term_id
        and placements.child_key = units.child_key
    group by placements.term_id, units.unit_level, units.unit_code
),

final as (
    select
        aggregated.term_id,
        aggregated.unit_level,
        aggregated.unit_code,
        case aggregated.unit_level
            when 'township' then aggregated.unit_code
            when 'school' then schools.township_code
        end as township_code,
        aggregated.disabled_children,
        aggregated.enrolled_children,
        aggregated.inclusive_children,
        aggregated.special_school_children,
        aggregated.home_taught_children,
        aggregated.unplaced_children,
        aggregated.exempt_children,
        round(aggregated.enrolled_children::numeric / nullif(aggregated.disabled_children, 0), 4) as enrolment_rate,
        round(aggregated.inclusive_children::numeric / nullif(aggregated.disabled_children, 0), 4) as inclusive_rate,
        round(aggregated.special_school_children::numeric / nullif(aggregated.disabled_children, 0), 4)
            as special_school_rate,
        round(aggregated.home_taught_children::numeric / nullif(aggregated.disabled_children, 0), 4)
            as home_taught_rate
    from aggregated
    left join schools
        on aggregated.unit_level = 'school'
        and aggregated.term_id = schools.term_id
        and aggregated.unit_code = schools.school_code
)

select * from final
