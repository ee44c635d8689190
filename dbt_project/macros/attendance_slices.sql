{#- Day slices: how the big attendance models rebuild only what changed.

    A versions model gives every (term_id, day) a version - a hash of what that day's
    rows are computed from (the attendance files covering it, the calendar, the term's
    student list). A slice model remembers, in intermediate.<model>__processed_days, the
    versions it was last built from; each run it deletes and recomputes only the days
    whose version differs. A new week of roll calls touches that week's days; a corrected
    学籍 export changes the term's student list and so every day of the term. The pre-hook,
    the insert and the post-hook run in one transaction, so a killed build leaves the
    previous state intact. -#}

{% macro processed_days_table() -%}
    intermediate.{{ this.identifier }}__processed_days
{%- endmacro %}

{#- A day is changed when its version differs from the one last processed, and also
    when it has disappeared from the versions (a corrected calendar or a withdrawn
    term): its old rows must go. -#}
{% macro changed_days(versions) -%}
    {% if is_incremental() %}
    select
        coalesce(versions.term_id, processed.term_id) as term_id,
        coalesce(versions.day, processed.day) as day
    from {{ versions }} as versions
    full outer join {{ processed_days_table() }} as processed
        on versions.term_id = processed.term_id
        and versions.day = processed.day
    where processed.version is distinct from versions.version
    {% else %}
    select versions.term_id, versions.day
    from {{ versions }} as versions
    {% endif %}
{%- endmacro %}

{% macro create_processed_days_table() %}
    create table if not exists {{ processed_days_table() }} (term_id text, day date, version text);
    -- verified_at: when the model's tests last passed over the day (mark_verified_days)
    alter table {{ processed_days_table() }} add column if not exists verified_at timestamptz;
{% endmacro %}

{% macro slice_pre_hook(versions) %}
    {{ create_processed_days_table() }}
    {% if is_incremental() %}
    delete from {{ this }} as target
    using ({{ changed_days(versions) }}) as changed
    where target.term_id = changed.term_id
        and target.day = changed.day
        -- lets a BRIN index on day (fct_attendance_daily) skip the unchanged weeks
        and target.day = any(array(select changed_day.day from ({{ changed_days(versions) }}) as changed_day));
    {% endif %}
{% endmacro %}

{#- Unchanged days keep their row (and when they were verified); changed and removed
    days are replaced. -#}
{% macro slice_post_hook(versions) %}
    delete from {{ processed_days_table() }} as processed
    where not exists (
        select 1 from {{ versions }} as versions
        where versions.term_id = processed.term_id
            and versions.day = processed.day
            and versions.version = processed.version
    );
    insert into {{ processed_days_table() }} (term_id, day, version)
    select versions.term_id, versions.day, versions.version
    from {{ versions }} as versions
    where not exists (
        select 1 from {{ processed_days_table() }} as processed
        where processed.term_id = versions.term_id
            and processed.day = versions.day
    );
    -- fresh statistics: the tests that follow plan on how many days are unverified
    analyze {{ processed_days_table() }};
    analyze {{ this }};
{% endmacro %}

{#- Restrict a relation to the changed days; on a full build, take it whole (a join
    there only costs time and tempts the planner into nested loops). -#}
{% macro in_changed_days(relation, alias, versions) -%}
    {% if is_incremental() %}
    select {{ alias }}.*
    from {{ relation }} as {{ alias }}
    inner join ({{ changed_days(versions) }}) as changed_days
        on {{ alias }}.term_id = changed_days.term_id
        and {{ alias }}.day = changed_days.day
    {% else %}
    select * from {{ relation }}
    {% endif %}
{%- endmacro %}

{#- Folded summaries (int_attendance_runs): per student, counts and unexcused runs over
    the term's days in order. When every changed day of a term comes after the last day
    already summarised - the usual case, a new week of roll calls - the new days'
    summary is folded onto the stored one; any other change (a corrected file, a new
    student, a calendar change) rebuilds the term from the grid. -#}
{% macro fold_term_modes(versions) -%}
    select
        changed.term_id,
        coalesce(min(changed.day) > max(summarised.last_day), false) as is_extended
    from ({{ changed_days(versions) }}) as changed
    left join (
        select term_id, max(last_reported_on) as last_day
        from {{ this }}
        group by term_id
    ) as summarised
        on changed.term_id = summarised.term_id
    group by changed.term_id
{%- endmacro %}

{% macro fold_pre_hook(versions) %}
    {{ create_processed_days_table() }}
    {% if is_incremental() %}
    delete from {{ this }} as target
    using ({{ fold_term_modes(versions) }}) as modes
    where target.term_id = modes.term_id
        and not modes.is_extended;
    {% endif %}
{% endmacro %}
