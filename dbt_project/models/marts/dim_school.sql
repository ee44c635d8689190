{{ config(grants={'+select': ['kcbx_township']}) }}
-- County schools as of the latest term delivered.
with schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

latest as (
    select distinct on (school_code) *
    from schools
    order by school_code, term_id desc
),

final as (
    select
        latest.school_code,
        latest.school_name,
        latest.school_type,
        latest.operator,
        latest.township_code,
        regions.region_name as township_name
    from latest
    left join regions
        on latest.township_code = regions.region_code
)

select * from final
