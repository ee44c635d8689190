{#- Day slices: an incremental strategy that rebuilds only the (term, day)s that changed.

    Opt in with one config:
        config(materialized='incremental', incremental_strategy='day_slices',
               day_versions='int_attendance_grid_versions')
    and read the model's input through `in_changed_days(...)` (or `changed_days(...)`);
    a model whose full build reads neither declares `-- depends_on: {{ ref(...) }}`.

    `day_versions` names a model of (term_id, day, version): a hash of what the day's rows
    are computed from (attendance files, calendar). The state table
    intermediate.day_slice_state (a source, so unit tests can give it rows) remembers,
    per model, the version each day was last built from. A new week of roll calls changes
    that week's versions, so only that week is deleted and inserted again. Everything
    runs in the model's transaction: a killed build leaves the previous state.

    One job per macro: changed_days (which days), changed_weeks_from (from which week),
    in_changed_days (restrict an input), get_incremental_day_slices_sql (replace them),
    record_day_slices (remember them).
-#}

{#- The model whose state to read: in a unit test, the model under test. -#}
{% macro day_slice_model() -%}
    {{ return(model.tested_node_unique_id.split('.')[-1] if model.resource_type == 'unit_test' else model.name) }}
{%- endmacro %}

{#- A day changed when its version differs from the one last built, or when it left the
    versions (a corrected calendar, a withdrawn term): its old rows must go too. -#}
{% macro changed_days(versions) -%}
    {% if is_incremental() %}
    select
        coalesce(versions.term_id, built.term_id) as term_id,
        coalesce(versions.day, built.day) as day
    from {{ versions }} as versions
    full outer join (
        select * from {{ source('day_slices', 'day_slice_state') }}
        where model = '{{ day_slice_model() }}'
    ) as built
        on versions.term_id = built.term_id
        and versions.day = built.day
    where built.version is distinct from versions.version
    {% else %}
    select versions.term_id, versions.day
    from {{ versions }} as versions
    {% endif %}
{%- endmacro %}

{#- Per term with a changed day: the Monday of the week of its first changed day. A full
    build starts every term at the beginning. -#}
{% macro changed_weeks_from(versions) -%}
    select changed.term_id, date_trunc('week', min(changed.day))::date as from_week
    from ({{ changed_days(versions) }}) as changed
    group by changed.term_id
{%- endmacro %}

{#- On a full build the input is taken whole: a join there only costs time and tempts
    the planner into nested loops. -#}
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

{#- The strategy: delete the changed days' rows, insert the model's. A model without a
    day column (a per-term summary such as int_attendance_runs) is replaced for every
    term with a changed day; its SQL decides what those terms' rows are. A model of
    weeks that carry the term so far (int_attendance_student_weeks) names its week column
    (config week_column): its rows from the week of the term's first changed day on are
    replaced, and its SQL writes those weeks (changed_weeks_from). -#}
{% macro get_incremental_day_slices_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set versions = ref(config.require('day_versions')) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- set has_day = arg_dict['dest_columns'] | selectattr('name', 'equalto', 'day') | list | length > 0 -%}
    {%- set week_column = config.get('week_column') -%}
    {%- if week_column %}
    delete from {{ target }} as target
    using ({{ changed_weeks_from(versions) }}) as changed
    where target.term_id = changed.term_id
        and target.{{ week_column }} >= changed.from_week;
    {%- elif has_day %}
    delete from {{ target }} as target
    using ({{ changed_days(versions) }}) as changed
    where target.term_id = changed.term_id
        and target.day = changed.day
        -- lets a BRIN index on day (fct_attendance_daily) skip the unchanged weeks
        and target.day = any(array(select changed_day.day from ({{ changed_days(versions) }}) as changed_day));
    {%- else %}
    delete from {{ target }} as target
    where target.term_id in (select changed.term_id from ({{ changed_days(versions) }}) as changed);
    {%- endif %}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }};
{% endmacro %}

{#- Post-hook of every model (dbt_project.yml), empty unless the model uses day_slices.
    Unchanged days keep their state row (and when their tests passed); changed and
    removed days are replaced. -#}
{% macro record_day_slices() %}
    {%- if config.get('incremental_strategy') == 'day_slices' -%}
    {%- set state = source('day_slices', 'day_slice_state') -%}
    {%- set versions = ref(config.require('day_versions')) -%}
    delete from {{ state }} as built
    where built.model = '{{ day_slice_model() }}'
        and (
            {{ should_full_refresh() }}
            or not exists (
                select 1 from {{ versions }} as versions
                where versions.term_id = built.term_id
                    and versions.day = built.day
                    and versions.version = built.version
            )
        );
    insert into {{ state }} (model, term_id, day, version)
    select '{{ day_slice_model() }}', versions.term_id, versions.day, versions.version
    from {{ versions }} as versions
    where not exists (
        select 1 from {{ state }} as built
        where built.model = '{{ day_slice_model() }}'
            and built.term_id = versions.term_id
            and built.day = versions.day
    );
    -- fresh statistics: the tests that follow plan on how few days are unverified (the
    -- model itself: analyze_built, the next post-hook)
    analyze {{ state }};
    {%- endif -%}
{% endmacro %}
