{#- Tests on the daily attendance fact read only the days not yet verified.

    fct_attendance_daily holds millions of rows and is rebuilt by day slice; a day's
    rows change only when its version does (macros/attendance_slices.sql), and a changed
    day is written again with verified_at empty. Its tests carry
    `where: __unverified_days__`, so a new week is tested once, not the whole term
    again. After a build, mark_verified_days (on-run-end) stamps the days once every
    test on the model ran and passed or warned (warnings are stored in audit); a run
    killed or failed before its tests leaves the days to the next run. -#}

{#- The days are read when the test runs (tests compile after their model is built)
    and written into the query as literals, so the planner sees how few they are and
    reads them through the BRIN index on day (sql/030). -#}
{% macro unverified_days_filter() -%}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {%- if not processed_days_exist() -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set days = run_query(
        'select term_id, day::text from intermediate.fct_attendance_daily__processed_days'
        ~ ' where verified_at is null order by 1, 2'
    ) -%}
    {%- if days.rows | length == 0 -%}
        {{ return('false') }}
    {%- endif -%}
    {%- set pairs = [] -%}
    {%- set dates = [] -%}
    {%- for term_id, day in days.rows -%}
        {%- do pairs.append("('" ~ term_id ~ "', date '" ~ day ~ "')") -%}
        {%- do dates.append("date '" ~ day ~ "'") -%}
    {%- endfor -%}
    day in ({{ dates | unique | join(', ') }}) and (term_id, day) in ({{ pairs | join(', ') }})
{%- endmacro %}

{#- Asked of the database: the model's pre-hook creates the table in raw SQL, so dbt's
    relation cache (filled when the run starts) does not know it on a first build. -#}
{% macro processed_days_exist() -%}
    {%- set found = run_query("select to_regclass('intermediate.fct_attendance_daily__processed_days') is not null") -%}
    {{- return(found.columns[0].values()[0]) -}}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__unverified_days__', unverified_days_filter()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro mark_verified_days(results) %}
    {%- if execute -%}
        {%- set model_id = 'model.kcbx.fct_attendance_daily' -%}
        {%- set expected = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'test' and model_id in node.depends_on.nodes -%}
                {%- do expected.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set passed = [] -%}
        {%- for result in results -%}
            {%- if result.node.unique_id in expected and result.status in ['pass', 'warn'] -%}
                {%- do passed.append(result.node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if expected and passed | length == expected | length and processed_days_exist() -%}
            update intermediate.fct_attendance_daily__processed_days set verified_at = now()
            where verified_at is null
        {%- else -%}
            select 1
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}
