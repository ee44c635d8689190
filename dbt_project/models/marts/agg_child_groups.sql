{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- Children per 重点群体 and township (and the county, township_code null), for BI
-- accounts instead of dim_child's per-child flags. A count below
-- var('bi_min_group_size') children is suppressed (null, is_suppressed): a group of
-- two orphans in a township would otherwise name them to anyone who knows the village.
-- Complementary suppression: the county's count minus the townships shown is the sum of
-- the townships hidden, so when a group hides any township it hides its smallest
-- townships until at least two are hidden and together they hold at least
-- bi_min_group_size children; the difference then never points at a township's count.
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
    select
        home_township_code as township_code,
        priority_group,
        grouping(home_township_code) = 1 as is_county,
        count(*) as children
    from latest_groups
    group by grouping sets ((home_township_code, priority_group), (priority_group))
),

-- townships of a group from the smallest, with the children of those before each
ranked_townships as (
    select
        *,
        row_number() over by_size as size_rank,
        coalesce(sum(children) over by_size_before, 0) as children_before,
        count(*) filter (where children < {{ var('bi_min_group_size') }})
            over (partition by priority_group) as primary_hidden
    from counted
    where not is_county
    window
        by_size as (partition by priority_group order by children, township_code nulls first),
        by_size_before as (
            partition by priority_group order by children, township_code nulls first
            rows between unbounded preceding and 1 preceding
        )
),

hidden_townships as (
    select
        township_code,
        priority_group,
        is_county,
        children,
        primary_hidden > 0
        and (
            size_rank <= primary_hidden
            or size_rank - 1 < 2
            or children_before < {{ var('bi_min_group_size') }}
        ) as is_hidden
    from ranked_townships
),

county as (
    select
        township_code,
        priority_group,
        is_county,
        children,
        children < {{ var('bi_min_group_size') }} as is_hidden
    from counted
    where is_county
),

cells as (
    select * from hidden_townships
    union all
    select * from county
),

final as (
    select
        township_code,
        priority_group,
        case when not is_hidden then children end as children,
        is_hidden as is_suppressed
    from cells
)

select * from final
