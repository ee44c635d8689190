{{ config(grants={'+select': ['kcbx_township']}) }}
-- Every date of every delivered term calendar, with its school-day flag.
with calendar as (
    select * from {{ ref('stg_jiaoyu__calendar_days') }}
),

final as (
    select
        day as date_day,
        term_id,
        is_school_day,
        extract(isodow from day)::int as iso_weekday,
        to_char(day, 'YYYY-MM') as year_month
    from calendar
)

select * from final
