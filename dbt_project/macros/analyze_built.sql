{#- Post-hook of every model (dbt_project.yml): a table just built gets its planner
    statistics in the same transaction. Autovacuum analyses a new table only some seconds
    later; a model planned before that guesses its inputs' sizes, and one such guess (the
    early warning's score, planned on fresh student-weeks and child tables while a new
    week was built) took over ten minutes instead of nine seconds. Runs after
    record_day_slices (dbt_project.yml), so a day_slices model's state is analysed first;
    views and ephemeral models have nothing to analyse. -#}
{% macro analyze_built() -%}
    {%- if model.resource_type == 'model'
        and config.get('materialized') in ('table', 'incremental') -%}
    analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
