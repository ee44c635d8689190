{#- Tests on a day_slices model read only the days not yet verified.

    fct_attendance_daily holds millions of rows; a changed day is written again with
    verified_at empty in intermediate.day_slice_state. A test on it that carries
        config: {where: "{{ var('unverified_days') }}"}
    (the var is in dbt_project.yml: a generic test's config cannot call a macro)
    reads those days only, so a new week is tested once, not the whole term again.
    After a build, mark_verified_days (on-run-end) stamps a model's days once every test
    on it ran and passed or warned (warnings are stored in audit); a run killed or failed
    before its tests leaves the days to the next run. -#}

{% macro mark_verified_days(results) %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for model in graph.nodes.values()
        if model.resource_type == 'model' and model.config.incremental_strategy == 'day_slices' -%}
        {%- set expected = [] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'test' and model.unique_id in node.depends_on.nodes -%}
            {%- do expected.append(node.unique_id) -%}
        {%- endfor -%}
        {%- set passed = [] -%}
        {%- for result in results
            if result.node.unique_id in expected and result.status in ['pass', 'warn'] -%}
            {%- do passed.append(result.node.unique_id) -%}
        {%- endfor -%}
        {#- a model without tests is verified once built -#}
        {%- if passed | length == expected | length -%}
            {%- do statements.append(
                "update intermediate.day_slice_state set verified_at = now() where model = '"
                ~ model.name ~ "' and verified_at is null"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return((statements | join(';\n')) or 'select 1') }}
{% endmacro %}
