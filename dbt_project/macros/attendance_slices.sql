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

{% macro changed_days(versions) -%}
    select versions.term_id, versions.day
    from {{ versions }} as versions
    {% if is_incremental() %}
    left join {{ processed_days_table() }} as processed
        on versions.term_id = processed.term_id
        and versions.day = processed.day
    where processed.version is distinct from versions.version
    {% endif %}
{%- endmacro %}

{% macro slice_pre_hook(versions) %}
    create table if not exists {{ processed_days_table() }} (term_id text, day date, version text);
    {% if is_incremental() %}
    delete from {{ this }} as target
    using ({{ changed_days(versions) }}) as changed
    where target.term_id = changed.term_id
        and target.day = changed.day;
    {% endif %}
{% endmacro %}

{% macro slice_post_hook(versions) %}
    delete from {{ processed_days_table() }};
    insert into {{ processed_days_table() }} (term_id, day, version)
    select term_id, day, version from {{ versions }};
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
