-- 回执·残联 安置汇总: the 三类安置 counts of the compulsory-cohort children on the 残疾儿童
-- list, per township and for the county (unit_level 'county', township_code null), per
-- term: 随班就读, 特殊教育学校, 送教上门, their total and rate, 缓免学, 未安置 and of those the
-- ones not in school (就学状况 未在校; the others' 就学状况 says why: 户籍迁出, 在外就读（已核实）,
-- 无户籍学籍记录 ...), and how many placements differ from the 安置建议. The list is the
-- denominator: every cohort child the 残联 sent. Counts only, no child.
with children as (
    select * from {{ ref('receipt_canlian') }}
    where in_cohort
),

regions as (
    select * from {{ ref('dim_region') }}
),

counted as (
    select
        term_id,
        {{ unit_level_of('township_code', none) }} as unit_level,
        township_code,
        count(*) as children,
        count(*) filter (where actual_placement = '随班就读') as mainstream,
        count(*) filter (where actual_placement = '特殊教育学校') as special_school,
        count(*) filter (where actual_placement = '送教上门') as home_taught,
        count(*) filter (where actual_placement in ('随班就读', '特殊教育学校', '送教上门')) as placed,
        count(*) filter (where actual_placement = '缓免学') as exempt,
        count(*) filter (where actual_placement = '未安置') as unplaced,
        count(*) filter (where actual_placement = '未安置' and schooling_status = '未在校') as out_of_school,
        count(*) filter (where is_as_advised = '否') as not_as_advised
    from children
    group by grouping sets ((term_id, township_code), (term_id))
),

final as (
    select
        counted.term_id,
        counted.unit_level,
        counted.township_code,
        case
            when counted.unit_level = 'county' then '全县合计'
            else coalesce(townships.region_name, '未知乡镇')
        end as township_name,
        counted.children,
        counted.mainstream,
        counted.special_school,
        counted.home_taught,
        counted.placed,
        round(100.0 * counted.placed / counted.children, 1) as placed_rate,
        counted.exempt,
        counted.unplaced,
        counted.out_of_school,
        counted.not_as_advised
    from counted
    left join regions as townships
        on counted.township_code = townships.region_code
)

select * from final
