{{
    config(
        materialized='incremental',
        incremental_strategy='day_slices',
        day_versions='int_attendance_grid_versions',
        week_column='week_start',
        on_schema_change='fail',
    )
}}
-- depends_on: {{ ref('int_attendance_grid_versions') }}
-- Student x school x week: what the week's roll calls say, and where the student stood
-- on its last reported day of the week - the unexcused run reaching that day, the last
-- warning_window_days reported days, the term so far - for the early warning
-- (int_warning_scores) and the term's runs (int_attendance_runs), plus the days on which
-- a run reached the 疑似辍学 threshold (the events the warning is proven against).
-- One sort of the grid: every measure is a running count over the student's days in
-- order (a count over the last N days is the running count minus its value N days back;
-- the current run is the days since the last day that was not unexcused).
-- Incremental (macros/day_slices/, week_column): a term is summarised again from the
-- week of its first changed day - a new week of roll calls reads that week, plus each
-- school's warning_window_days - 1 reported days before it for the window (a student
-- taught at home: all its days), and carries the term so far and the current run over
-- from the student's last stored week.
{#- tells the operator from where; not in unit tests, where refs name the fixtures -#}
{%- if execute and is_incremental() and model.resource_type == 'model' %}
    {%- for term_id, from_week in run_query(changed_weeks_from(ref('int_attendance_grid_versions'))).rows %}
        {%- do log('kcbx: int_attendance_student_weeks summarises term ' ~ term_id ~ ' from the week of ' ~ from_week, info=true) %}
    {%- endfor %}
{%- endif %}
{%- set window_days = var('warning_window_days') %}
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),

reporting as (
    select * from {{ ref('int_school_reporting') }}
),

pairs as (
    select * from {{ ref('int_attendance_pairs') }}
),

starts as (
    {{ changed_weeks_from(ref('int_attendance_grid_versions')) }}
),

earlier_days as (
    select
        reporting.term_id,
        reporting.school_code,
        reporting.day,
        row_number() over (
            partition by reporting.term_id, reporting.school_code order by reporting.day desc
        ) as days_back
    from reporting
    inner join starts
        on reporting.term_id = starts.term_id
        and reporting.day < starts.from_week
),

-- each school's last window_days - 1 reported days before the first week summarised:
-- every student of the school has a grid row on each of them
context_starts as (
    select term_id, school_code, min(day) as from_day
    from earlier_days
    where days_back < {{ window_days }}
    group by term_id, school_code
),

-- each pair numbered: the student-days are sorted by one integer, not by three text
-- keys (a 64-character student key tripled the width of the rows sorted)
numbered_pairs as (
    select
        term_id,
        school_code,
        student_key,
        is_home_taught,
        row_number() over (order by term_id, school_code, student_key) as pair_no
    from pairs
),

-- the student's state at the end of its last stored week before the first week summarised
carried as (
    {% if is_incremental() %}
    select distinct on (stored.term_id, stored.school_code, stored.student_key)
        stored.term_id,
        stored.school_code,
        stored.student_key,
        stored.days_so_far,
        stored.present_so_far,
        stored.current_run
    from {{ this }} as stored
    inner join starts
        on stored.term_id = starts.term_id
        and stored.week_start < starts.from_week
    order by stored.term_id, stored.school_code, stored.student_key, stored.week_start desc
    {% else %}
    select null::text as term_id, null::text as school_code, null::text as student_key,
        0 as days_so_far, 0 as present_so_far, 0 as current_run
    where false
    {% endif %}
),

days as (
    select
        numbered_pairs.pair_no,
        grid.day,
        grid.attendance_kind,
        grid.day >= starts.from_week as is_summarised,
        coalesce(carried.days_so_far, 0) as carried_days,
        coalesce(carried.present_so_far, 0) as carried_present,
        coalesce(carried.current_run, 0) as carried_run
    from grid
    inner join starts
        on grid.term_id = starts.term_id
    left join context_starts
        on grid.term_id = context_starts.term_id
        and grid.school_code = context_starts.school_code
    left join carried
        on grid.term_id = carried.term_id
        and grid.school_code = carried.school_code
        and grid.student_key = carried.student_key
    inner join numbered_pairs
        on grid.term_id = numbered_pairs.term_id
        and grid.school_code = numbered_pairs.school_code
        and grid.student_key = numbered_pairs.student_key
    -- a student taught at home has grid rows only on its roll-called days, so the
    -- school's context days may hold fewer than its last window_days - 1 rows: it is
    -- read from the term's start (a few rows each)
    where grid.day >= coalesce(context_starts.from_day, starts.from_week)
        or numbered_pairs.is_home_taught
),

running as (
    select
        *,
        date_trunc('week', day)::date as week_start,
        count(*) over so_far as days_read,
        count(*) filter (where is_summarised) over so_far as new_days,
        count(*) filter (where is_summarised and attendance_kind = 'present') over so_far as new_present,
        count(*) filter (where attendance_kind = 'present') over so_far as present_read,
        count(*) filter (where attendance_kind = 'unexcused') over so_far as unexcused_read,
        lead(day) over so_far as next_day
    from days
    window so_far as (
        partition by pair_no
        order by day
        rows between unbounded preceding and current row
    )
),

-- the same window again: the rows come sorted from the step before, nothing is re-sorted
positioned as (
    select
        *,
        max(case when attendance_kind <> 'unexcused' then days_read end) over so_far as last_other_read,
        present_read - coalesce(lag(present_read, {{ window_days }}) over so_far, 0) as recent_present,
        unexcused_read - coalesce(lag(unexcused_read, {{ window_days }}) over so_far, 0) as recent_unexcused
    from running
    window so_far as (
        partition by pair_no
        order by day
        rows between unbounded preceding and current row
    )
),

measured as (
    select
        pair_no,
        week_start,
        day,
        attendance_kind,
        recent_present,
        recent_unexcused,
        carried_days + new_days as days_so_far,
        carried_present + new_present as present_so_far,
        least(carried_days + new_days, {{ window_days }}) as recent_days,
        -- no day that was not unexcused since the first day read: the run goes on from
        -- the carried one (which counts the context days, all unexcused)
        case
            when last_other_read is null then carried_run + new_days
            else days_read - last_other_read
        end as current_run,
        next_day is null or date_trunc('week', next_day)::date <> week_start as is_week_end
    from positioned
    where is_summarised
),

weeks as (
    select
        pair_no,
        week_start,
        max(day) as week_end_day,
        count(*)::integer as school_days,
        (count(*) filter (where attendance_kind = 'present'))::integer as present_days,
        (count(*) filter (where attendance_kind = 'excused'))::integer as excused_days,
        (count(*) filter (where attendance_kind = 'unexcused'))::integer as unexcused_days,
        max(day) filter (where attendance_kind = 'present') as last_present_on,
        max(current_run)::integer as longest_run,
        (max(current_run) filter (where is_week_end))::integer as current_run,
        (max(recent_days) filter (where is_week_end))::integer as recent_days,
        (max(recent_present) filter (where is_week_end))::integer as recent_present,
        (max(recent_unexcused) filter (where is_week_end))::integer as recent_unexcused,
        max(days_so_far)::integer as days_so_far,
        max(present_so_far)::integer as present_so_far,
        coalesce(
            array_agg(day order by day) filter (
                where attendance_kind = 'unexcused' and current_run = {{ var('dropout_days') }}
            ),
            '{}'::date[]
        ) as run_reached_on
    from measured
    group by pair_no, week_start
),

final as (
    select
        numbered_pairs.term_id,
        numbered_pairs.school_code,
        numbered_pairs.student_key,
        weeks.week_start,
        weeks.week_end_day,
        weeks.school_days,
        weeks.present_days,
        weeks.excused_days,
        weeks.unexcused_days,
        weeks.last_present_on,
        weeks.longest_run,
        weeks.current_run,
        weeks.recent_days,
        weeks.recent_present,
        weeks.recent_unexcused,
        weeks.days_so_far,
        weeks.present_so_far,
        weeks.run_reached_on
    from weeks
    inner join numbered_pairs
        on weeks.pair_no = numbered_pairs.pair_no
)

select * from final
