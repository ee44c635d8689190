{#- Identity numbers never leave staging as numbers: they become child_key, the
    HMAC-SHA256 of the number under KCBX_PII_KEY. The loader computes keys and stores
    them in pii.child_keys (the secret never enters the warehouse); models look them up.
    A child with no identity number is keyed by its 全国学籍号 instead. -#}

{% macro key_of(material_sql) -%}
    (select keys.child_key from {{ source('pii', 'child_keys') }} as keys where keys.material = {{ material_sql }})
{%- endmacro %}

{% macro child_key(id_number_column, student_no_column=none) -%}
    {%- if student_no_column -%}
    {{ key_of("coalesce(" ~ id_number_column ~ ", 'student:' || " ~ student_no_column ~ ")") }}
    {%- else -%}
    {{ key_of(id_number_column) }}
    {%- endif -%}
{%- endmacro %}

{#- A 劝返责任人's key; the loader registered 'responsible:<乡镇代码>|<name>'
    (kcbx.ingest.load.responsible_material). -#}
{% macro responsible_key(township_column, person_column) -%}
    case when {{ person_column }} is not null then
        {{ key_of("'responsible:' || coalesce(" ~ township_column ~ ", '') || '|' || " ~ person_column) }}
    end
{%- endmacro %}

{% macro student_key(student_no_column) -%}
    {{ key_of("'student:' || " ~ student_no_column) }}
{%- endmacro %}

{#- GB 11643: digits 7-14 are the birth date, digit 17 odd for male. The number wins
    over a row's own 出生日期/性别 columns. -#}
{% macro birth_date_from_id(id_number_column) -%}
    to_date(substring({{ id_number_column }} from 7 for 8), 'YYYYMMDD')
{%- endmacro %}

{% macro sex_from_id(id_number_column) -%}
    case when substring({{ id_number_column }} from 17 for 1)::int % 2 = 1 then '男' else '女' end
{%- endmacro %}
