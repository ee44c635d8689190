{{ config(post_hook="{{ township_row_security('home_township_code') }}", grants={'select': ['kcbx_auditor', 'kcbx_admin']}) }}
-- One row per child (child_key) with attributes from the latest term it appears in.
-- No names or identity numbers: those are in pii.child_identity only. Birth date, sex
-- and village single out almost every child, next to disability, orphan, 低保 and
-- prisoner's-child flags: BI accounts do not read this table but dim_child_bi (birth
-- month, township) and agg_child_groups (flags as counts of at least k children).
with child_terms as (
    select * from {{ ref('int_child_terms') }}
),

latest as (
    select distinct on (child_key) *
    from child_terms
    order by child_key, term_id desc
),

final as (
    select
        child_key,
        term_id as as_of_term_id,
        birth_date,
        sex,
        hukou_region_code,
        hukou_township_code,
        home_township_code,
        hukou_status,
        is_migrant,
        monitoring_type,
        monitoring_type is not null as is_poverty_monitored,
        disability_category,
        disability_grade,
        is_orphan,
        is_de_facto_unsupported,
        is_left_behind,
        is_in_hardship,
        is_dibao,
        is_tekun,
        is_prisoners_child
    from latest
)

select * from final
