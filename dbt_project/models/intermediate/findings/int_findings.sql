-- Every finding of every rule of SPEC §3, one row per finding, before labelling.
{#- The types are the project's macros named finding_type__<type> (macros/findings/<type>.sql,
    one file a type adds): dbt resolves a model's refs when it parses it, before any seed or
    relation can be read, and the project's macros are the one list a model can read then.
    tests/unit/test_finding_types.py holds them to seeds/finding_types.csv. kcbx passes the
    same list as KCBX_FINDING_TYPES: a changed value makes dbt's partial parsing parse this
    file again (a new macro alone would not). -#}
{%- set registered = env_var('KCBX_FINDING_TYPES', '') -%}
{%- set finding_types = [] -%}
{%- for name in kcbx if name.startswith('finding_type__') -%}
    {%- do finding_types.append(name.removeprefix('finding_type__')) -%}
{%- endfor %}
with unioned as (
    {% for finding in finding_types | sort %}
    select term_id, finding_type, child_key, school_code, township_code, details
    from {{ ref('int_findings__' ~ finding) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select * from unioned
)

select * from final
