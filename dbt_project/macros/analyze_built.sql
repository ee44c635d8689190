{#- Post-hook of every model (dbt_project.yml): a table just built gets its planner
    statistics in the same transaction. Autovacuum analyses a new table only some seconds
    later; a model planned before that guesses its inputs' sizes, and one such guess (the
    early warning's score, planned on fresh student-weeks and child tables while a new
    week was built) took over ten minutes instead of nine seconds. A day_slices model is
    analysed by record_day_slices; views and ephemeral models have nothing to analyse. -#}
{% macro analyze_built() -%}
    {%- if model.resource_type == 'model'
        and config.get('materialized') in ('table', 'incremental')
        and config.get('incremental_strategy') != 'day_slices' -%}
    analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
