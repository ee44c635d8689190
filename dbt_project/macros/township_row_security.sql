{#- Post-hook for marts township accounts may read (sql/040_row_security.sql): enable
    row-level security and (re)create the policy, since dbt re-creates the table on every
    build. Rows whose township column is null are county-wide figures when
    null_is_county is true (visible to every account), otherwise unattributed children
    that only the bureau sees. The account's townships are fetched once per query (an
    InitPlan), not once per row. -#}
{% macro township_row_security(column='township_code', null_is_county=false) -%}
    alter table {{ this }} enable row level security;
    drop policy if exists township_rows on {{ this }};
    create policy township_rows on {{ this }} for select using (
        (select audit.account_townships(current_user)) is null
        or {{ column }} = any(cast((select audit.account_townships(current_user)) as text[]))
        {%- if null_is_county %}
        or {{ column }} is null
        {%- endif %}
    );
{%- endmacro %}
