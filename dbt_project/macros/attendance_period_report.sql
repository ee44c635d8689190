{#- 到校情况日报/周报/月报 (agg_attendance_daily / _weekly / _monthly): per school, township
    and county over each school day, week or month of a term, from the attendance grid
    (unmarked days are unexcused, SPEC §3) and the roll calls delivered. Frozen like
    frozen_school_months: a term's rows are written when it first arrives, and after
    that only the latest term's latest stored period and later ones are written again -
    a period is closed once a later one has been reported, and a closed period's report
    does not change when later data arrive. Days close with their week (schools send a
    week's roll calls at once, one school later than another), so a day's figures always
    add up to its week's. Schools expected to report: county schools with a student on
    the roll or in a roll call this term. Student-days are summed from
    int_attendance_school_day_totals; of the grid only the unexcused student-days are
    read, for the distinct children who had one. -#}
{% macro attendance_period_report(period) -%}
{%- set closes_with = 'week' if period == 'day' else period -%}
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),

totals as (
    select * from {{ ref('int_attendance_school_day_totals') }}
),

pairs as (
    select * from {{ ref('int_attendance_pairs') }}
),

calendar as (
    select * from {{ ref('stg_jiaoyu__calendar_days') }}
),

reporting as (
    select * from {{ ref('int_school_reporting') }}
),

delivered as (
    select * from {{ ref('int_attendance_school_days') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

counties as (
    {{ county_codes() }}
),

{% if is_incremental() %}
stored as (
    select term_id, date_trunc('{{ closes_with }}', max(period_start))::date as last_period_start
    from {{ this }}
    group by term_id
),

scope as (
    select terms.term_id, coalesce(stored.last_period_start, '1900-01-01'::date) as from_day
    from terms
    left join stored
        on terms.term_id = stored.term_id
    where stored.term_id is null
        or terms.term_id = (select max(term_id) from terms)
),
{% else %}
scope as (
    select term_id, '1900-01-01'::date as from_day
    from terms
),
{% endif %}

-- the term's calendar arrives whole at its start: days after the latest day any school
-- reported are not due yet
reported_until as (
    select term_id, max(day) as last_day
    from reporting
    group by term_id
),

school_days as (
    select calendar.term_id, calendar.day, date_trunc('{{ period }}', calendar.day)::date as period_start
    from calendar
    inner join scope
        on calendar.term_id = scope.term_id
        and calendar.day >= scope.from_day
    inner join reported_until
        on calendar.term_id = reported_until.term_id
        and calendar.day <= reported_until.last_day
    where calendar.is_school_day
),

expected_schools as (
    select pairs.term_id, pairs.school_code, schools.township_code, count(*) as students
    from pairs
    inner join schools
        on pairs.term_id = schools.term_id
        and pairs.school_code = schools.school_code
    inner join scope
        on pairs.term_id = scope.term_id
    group by pairs.term_id, pairs.school_code, schools.township_code
),

school_periods as (
    select
        expected_schools.term_id,
        expected_schools.school_code,
        expected_schools.township_code,
        school_days.period_start,
        count(*) as school_days,
        count(reporting.day) as reported_days,
        count(*) * expected_schools.students as roll_calls_expected,
        coalesce(sum(delivered.roll_calls), 0) as roll_calls_delivered
    from expected_schools
    inner join school_days
        on expected_schools.term_id = school_days.term_id
    left join reporting
        on expected_schools.term_id = reporting.term_id
        and expected_schools.school_code = reporting.school_code
        and school_days.day = reporting.day
    left join delivered
        on expected_schools.term_id = delivered.term_id
        and expected_schools.school_code = delivered.school_code
        and school_days.day = delivered.day
    group by
        expected_schools.term_id,
        expected_schools.school_code,
        expected_schools.township_code,
        expected_schools.students,
        school_days.period_start
),

-- the student-days by status: sums of the per-school-day totals (one grid pass, shared
-- by the three reports)
attendance_totals as (
    select
        totals.term_id,
        school_days.period_start,
        {{ unit_level_of('expected_schools.township_code', 'totals.school_code') }} as unit_level,
        totals.school_code,
        expected_schools.township_code,
        sum(totals.student_days) as student_days,
        sum(totals.present_days) as present_days,
        sum(totals.excused_days) as excused_days,
        sum(totals.unexcused_days) as unexcused_days
    from totals
    inner join school_days
        on totals.term_id = school_days.term_id
        and totals.day = school_days.day
    inner join expected_schools
        on totals.term_id = expected_schools.term_id
        and totals.school_code = expected_schools.school_code
    group by grouping sets (
        (totals.term_id, school_days.period_start, expected_schools.township_code, totals.school_code),
        (totals.term_id, school_days.period_start, expected_schools.township_code),
        (totals.term_id, school_days.period_start)
    )
),

-- children with an unexcused day: distinct per unit, since a child on two schools' rolls
-- counts once in its township and county; only the unexcused student-days are read
unexcused_children as (
    select
        grid.term_id,
        school_days.period_start,
        {{ unit_level_of('expected_schools.township_code', 'grid.school_code') }} as unit_level,
        grid.school_code,
        expected_schools.township_code,
        count(distinct grid.student_key) as children_with_unexcused_days
    from grid
    inner join school_days
        on grid.term_id = school_days.term_id
        and grid.day = school_days.day
    inner join expected_schools
        on grid.term_id = expected_schools.term_id
        and grid.school_code = expected_schools.school_code
    where grid.attendance_kind = 'unexcused'
    group by grouping sets (
        (grid.term_id, school_days.period_start, expected_schools.township_code, grid.school_code),
        (grid.term_id, school_days.period_start, expected_schools.township_code),
        (grid.term_id, school_days.period_start)
    )
),

attendance as (
    select
        attendance_totals.*,
        unexcused_children.children_with_unexcused_days
    from attendance_totals
    left join unexcused_children
        on {{ same_reporting_unit('attendance_totals', 'unexcused_children') }}
),

reporting_units as (
    select
        term_id,
        period_start,
        {{ unit_level_of() }} as unit_level,
        school_code,
        township_code,
        max(school_days) as school_days,
        count(*) as schools,
        count(*) filter (where reported_days < school_days) as schools_missing_days,
        sum(school_days - reported_days) as missed_school_days,
        sum(roll_calls_expected) as roll_calls_expected,
        sum(roll_calls_delivered) as roll_calls_delivered
    from school_periods
    group by grouping sets ((term_id, period_start, township_code, school_code), (term_id, period_start, township_code), (term_id, period_start))
),

final as (
    select
        reporting_units.term_id,
        reporting_units.period_start,
        {% if period == 'day' %}reporting_units.period_start{% elif period == 'week' %}reporting_units.period_start + 6{% else %}(reporting_units.period_start + interval '1 month' - interval '1 day')::date{% endif %}
            as period_end,
        reporting_units.unit_level,
        case reporting_units.unit_level
            when 'county' then coalesce(counties.county_code, 'county')
            when 'township' then reporting_units.township_code
            else reporting_units.school_code
        end as unit_code,
        reporting_units.township_code,
        reporting_units.school_days::integer as school_days,
        reporting_units.schools::integer as schools,
        reporting_units.schools_missing_days::integer as schools_missing_days,
        reporting_units.missed_school_days::integer as missed_school_days,
        reporting_units.roll_calls_expected::bigint as roll_calls_expected,
        reporting_units.roll_calls_delivered::bigint as roll_calls_delivered,
        coalesce(attendance.student_days, 0)::bigint as student_days,
        coalesce(attendance.present_days, 0)::bigint as present_days,
        coalesce(attendance.excused_days, 0)::bigint as excused_days,
        coalesce(attendance.unexcused_days, 0)::bigint as unexcused_days,
        round(attendance.present_days::numeric / nullif(attendance.student_days, 0), 4) as attendance_rate,
        coalesce(attendance.children_with_unexcused_days, 0)::bigint as children_with_unexcused_days,
        now() as frozen_at
    from reporting_units
    left join attendance
        on {{ same_reporting_unit('reporting_units', 'attendance') }}
    left join counties
        on reporting_units.term_id = counties.term_id
)

select * from final
{%- endmacro %}


{#- Two rows of grouping-sets aggregates over (township, school) per term and period are
    the same reporting unit: a county or township row has no school (or township). -#}
{% macro same_reporting_unit(left, right) -%}
    {{ left }}.term_id = {{ right }}.term_id
        and {{ left }}.period_start = {{ right }}.period_start
        and {{ left }}.unit_level = {{ right }}.unit_level
        and {{ left }}.township_code is not distinct from {{ right }}.township_code
        and {{ left }}.school_code is not distinct from {{ right }}.school_code
{%- endmacro %}
