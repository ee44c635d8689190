-- 向区域发布：目标达标（冻结）. Each target of seeds/targets.csv against the county's and its
-- townships' figures, as frozen at the term's end.
with targets as (
    select * from {{ ref('frozen_term_targets') }}
),

final as (
    select
        term_id,
        unit_level,
        unit_code,
        township_code,
        target,
        target_label,
        direction,
        target_value::numeric as target_value,
        value::numeric as value,
        is_met
    from targets
    where unit_level in ('county', 'township')
)

select * from final
