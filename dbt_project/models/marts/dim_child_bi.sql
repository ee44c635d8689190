{{ config(post_hook="{{ township_row_security('home_township_code') }}", grants={'+select': ['kcbx_township']}) }}
-- dim_child as BI accounts see it: birth month instead of date, township instead of
-- village, and none of the vulnerability flags (those are in agg_child_groups, as counts).
with children as (
    select * from {{ ref('dim_child') }}
),

final as (
    select
        child_key,
        as_of_term_id,
        cast(date_trunc('month', birth_date) as date) as birth_month,
        sex,
        hukou_township_code,
        home_township_code,
        hukou_status,
        is_migrant
    from children
)

select * from final
