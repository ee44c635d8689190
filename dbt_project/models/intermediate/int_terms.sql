-- One row per term delivered: its calendar span, school days, census date and the
-- birth-date range of the compulsory cohort (ages 6-14 on 31 August, SPEC §3).
with calendar as (
    select * from {{ ref('stg_jiaoyu__calendar_days') }}
),

spans as (
    select
        term_id,
        min(day) as first_day,
        max(day) as last_day,
        count(*) filter (where is_school_day) as school_days
    from calendar
    group by term_id
),

final as (
    select
        term_id,
        {{ school_year('term_id') }} as school_year,
        right(term_id, 1)::int as term_number,
        case
            when right(term_id, 1) = '1' then make_date({{ school_year('term_id') }}, 9, 30)
            else make_date({{ school_year('term_id') }} + 1, 3, 31)
        end as census_date,
        make_date({{ school_year('term_id') }} - 15, 9, 1) as cohort_first_birth,
        make_date({{ school_year('term_id') }} - 6, 8, 31) as cohort_last_birth,
        first_day,
        last_day,
        school_days
    from spans
)

select * from final
