{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- Children per 重点群体 and township (and the county, is_county), for BI accounts instead
-- of dim_child's per-child flags. A count below var('bi_min_group_size') children is
-- suppressed (null, is_suppressed): a group of two orphans in a township would otherwise
-- name them to anyone who knows the village. Complementary suppression: the county's
-- count minus the townships shown is the sum of those hidden, and hiding a few more (the
-- smallest, say) still leaves bounds that can pin a count down; so a group with any
-- township below the size shows no township at all, only the county (when it is not
-- below the size itself). Children whose township is unknown are a township-level cell
-- with no township code.
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

small_groups as (
    select distinct priority_group
    from counted
    where not is_county and children < {{ var('bi_min_group_size') }}
),

flagged as (
    select
        counted.*,
        counted.children < {{ var('bi_min_group_size') }}
        or (not counted.is_county and small_groups.priority_group is not null) as is_hidden
    from counted
    left join small_groups
        on counted.priority_group = small_groups.priority_group
),

final as (
    select
        township_code,
        priority_group,
        is_county,
        case when not is_hidden then children end as children,
        is_hidden as is_suppressed
    from flagged
)

select * from final
