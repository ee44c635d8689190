{{ config(grants={'+select': ['kcbx_township']}) }}
-- 县/乡镇/村 hierarchy as of the latest term delivered.
with regions as (
    select * from {{ ref('stg_tongji__regions') }}
),

latest as (
    select distinct on (region_code) *
    from regions
    order by region_code, term_id desc
),

final as (
    select
        village.region_code,
        village.region_name,
        village.region_level,
        village.parent_code,
        case village.region_level
            when '村' then village.parent_code
            when '乡镇' then village.region_code
        end as township_code,
        case village.region_level
            when '村' then township.region_name
            when '乡镇' then village.region_name
        end as township_name
    from latest as village
    left join latest as township
        on village.parent_code = township.region_code
)

select * from final
