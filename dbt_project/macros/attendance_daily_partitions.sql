{#- fct_attendance_daily is a PostgreSQL table partitioned by term. dbt's own table
    creation (create table as) cannot partition, so the parent is created by the loader's
    DDL (sql/030_partitioned_marts.sql) and dbt always finds an existing table; each term
    gets its partition here, just before the model inserts (pre-hook). -#}
{% macro attendance_daily_partitions(relation) %}
do $partitions$
declare
    term text;
begin
    for term in select term_id from {{ ref('int_terms') }} loop
        execute format(
            'create table if not exists %I.%I partition of %s for values in (%L)',
            '{{ relation.schema }}', '{{ relation.identifier }}_' || replace(term, '-', '_'), '{{ relation }}', term
        );
    end loop;
end
$partitions$;
{% endmacro %}
