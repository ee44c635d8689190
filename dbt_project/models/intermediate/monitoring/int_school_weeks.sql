-- Every school day of every loaded term with its week: numbered across terms, so a
-- warning's horizon ("the following 2 school weeks") and its lead time in school days
-- run on into the next term instead of stopping at the holidays. Weeks start on Monday.
with calendar as (
    select * from {{ ref('stg_jiaoyu__calendar_days') }}
),

school_days as (
    select term_id, day, date_trunc('week', day)::date as week_start
    from calendar
    where is_school_day
),

weeks as (
    select
        term_id,
        week_start,
        row_number() over (partition by term_id order by week_start) as week_of_term,
        row_number() over (order by week_start, term_id) as week_seq
    from (select distinct term_id, week_start from school_days) as distinct_weeks
),

final as (
    select
        school_days.term_id,
        school_days.day,
        row_number() over (order by school_days.day, school_days.term_id) as school_day_seq,
        school_days.week_start,
        weeks.week_of_term,
        weeks.week_seq
    from school_days
    inner join weeks
        on school_days.term_id = weeks.term_id
        and school_days.week_start = weeks.week_start
)

select * from final
