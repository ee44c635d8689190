{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- Children per 重点群体 and township (and the county, township_code null), for BI
-- accounts instead of dim_child's per-child flags. A count below
-- var('bi_min_group_size') children is suppressed (null, is_suppressed): a group of
-- two orphans in a township would otherwise name them to anyone who knows the village.
with children as (
    select * from {{ ref('dim_child') }}
),

groups as (
    select * from {{ ref('int_child_priority_groups') }}
),

latest_groups as (
    select children.home_township_code, groups.priority_group, groups.child_key
    from groups
    inner join children
        on groups.child_key = children.child_key
        and groups.term_id = children.as_of_term_id
),

counted as (
    select home_township_code as township_code, priority_group, count(*) as children
    from latest_groups
    group by grouping sets ((home_township_code, priority_group), (priority_group))
),

final as (
    select
        township_code,
        priority_group,
        case when children >= {{ var('bi_min_group_size') }} then children end as children,
        children < {{ var('bi_min_group_size') }} as is_suppressed
    from counted
)

select * from final
