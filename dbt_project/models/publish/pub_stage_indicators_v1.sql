-- 向区域发布：学段指标. 入学率, 辍学率 and 巩固率 per 学段 (小学/初中), county and township.
with stages as (
    select * from {{ ref('agg_stage_indicators') }}
),

final as (
    select
        term_id,
        stage::text as stage,
        unit_level::text as unit_level,
        township_code::text as township_code,
        priority_group::text as priority_group,
        cohort_children::bigint as cohort_children,
        enrolled_children::bigint as enrolled_children,
        enrolment_rate::numeric as enrolment_rate,
        out_of_school_children::bigint as out_of_school_children,
        on_roll_children::bigint as on_roll_children,
        dropout_children::bigint as dropout_children,
        dropout_rate::numeric as dropout_rate,
        consolidation_rate::numeric as consolidation_rate
    from stages
)

select * from final
