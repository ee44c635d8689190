{#- The two steps of int_attendance_runs, one job each. -#}

{#- Per student, school and term over a stretch of days: day counts and unexcused runs.
    A run is consecutive reported days that are all unexcused; leading_unexcused_run is
    the run the stretch starts with, which continues a run the days before it ended with. -#}
{% macro summarise_attendance_days(days) -%}
    with numbered as (
        select
            *,
            count(*) filter (where attendance_kind <> 'unexcused') over (
                partition by term_id, school_code, student_key
                order by day
                rows between unbounded preceding and current row
            ) as run_group
        from {{ days }}
    ),

    runs as (
        select
            term_id,
            school_code,
            student_key,
            run_group,
            count(*) filter (where attendance_kind = 'unexcused') as run_length
        from numbered
        group by term_id, school_code, student_key, run_group
    ),

    run_summary as (
        select
            term_id,
            school_code,
            student_key,
            max(run_length) as longest_unexcused_run,
            (array_agg(run_length order by run_group desc))[1] as current_unexcused_run,
            coalesce(max(run_length) filter (where run_group = 0), 0) as leading_unexcused_run
        from runs
        group by term_id, school_code, student_key
    ),

    day_counts as (
        select
            term_id,
            school_code,
            student_key,
            count(*) as reported_days,
            count(*) filter (where attendance_kind = 'present') as present_days,
            count(*) filter (where attendance_kind = 'excused') as excused_days,
            count(*) filter (where attendance_kind = 'unexcused') as unexcused_days,
            max(day) filter (where attendance_kind = 'present') as last_present_on,
            max(day) as last_reported_on
        from {{ days }}
        group by term_id, school_code, student_key
    )

    select
        day_counts.*,
        run_summary.longest_unexcused_run,
        run_summary.current_unexcused_run,
        run_summary.leading_unexcused_run
    from day_counts
    inner join run_summary
        using (term_id, school_code, student_key)
{%- endmacro %}

{#- The fold: a stored summary (earlier days) followed by a new stretch's summary gives
    the summary of both. Either side may be missing for a student. -#}
{% macro fold_attendance_runs(earlier, later) -%}
    select
        term_id,
        school_code,
        student_key,
        coalesce(earlier.reported_days, 0) + coalesce(later.reported_days, 0) as reported_days,
        coalesce(earlier.present_days, 0) + coalesce(later.present_days, 0) as present_days,
        coalesce(earlier.excused_days, 0) + coalesce(later.excused_days, 0) as excused_days,
        coalesce(earlier.unexcused_days, 0) + coalesce(later.unexcused_days, 0) as unexcused_days,
        -- greatest() skips nulls: a side that is missing does not count
        greatest(earlier.last_present_on, later.last_present_on) as last_present_on,
        greatest(earlier.last_reported_on, later.last_reported_on) as last_reported_on,
        greatest(
            earlier.longest_unexcused_run,
            later.longest_unexcused_run,
            earlier.current_unexcused_run + later.leading_unexcused_run
        ) as longest_unexcused_run,
        case
            when later.student_key is null then earlier.current_unexcused_run
            when later.leading_unexcused_run = later.reported_days
                then coalesce(earlier.current_unexcused_run, 0) + later.reported_days
            else later.current_unexcused_run
        end as current_unexcused_run
    from {{ earlier }} as earlier
    full outer join {{ later }} as later
        using (term_id, school_code, student_key)
{%- endmacro %}

{#- Per term with a changed day: is it only extended (every changed day after the last
    day int_attendance_runs summarised), so the new days can be folded on? -#}
{% macro attendance_run_modes() -%}
    select
        changed.term_id,
        coalesce(min(changed.day) > max(summarised.last_day), false) as is_extended
    from ({{ changed_days(ref('int_attendance_grid_versions')) }}) as changed
    left join (
        select term_id, max(last_reported_on) as last_day
        from {{ this }}
        group by term_id
    ) as summarised
        on changed.term_id = summarised.term_id
    group by changed.term_id
{%- endmacro %}
