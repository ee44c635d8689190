{#- Post-hook for marts township accounts may read (sql/040_row_security.sql): enable
    and force row-level security (forced, so it holds for the owning pipeline role too,
    which keeps a policy of its own to write the table)
    and (re)create the policy, since dbt re-creates the table on every build. Rows whose township column is null are county-wide figures when
    null_is_county is true (visible to every account), otherwise unattributed children
    that only the bureau sees. The account's townships are fetched once per query (an
    InitPlan), not once per row. -#}
{% macro township_row_security(column='township_code', null_is_county=false) -%}
    alter table {{ this }} enable row level security;
    alter table {{ this }} force row level security;
    drop policy if exists pipeline_writes on {{ this }};
    create policy pipeline_writes on {{ this }} for all to current_user using (true) with check (true);
    drop policy if exists township_rows on {{ this }};
    create policy township_rows on {{ this }} for select using (
        (select audit.account_townships()) is null
        or {{ column }} = any(cast((select audit.account_townships()) as text[]))
        {%- if null_is_county %}
        or {{ column }} is null
        {%- endif %}
    );
{%- endmacro %}
