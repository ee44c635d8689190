{#- The groups agg_warning_backtest breaks a row of `alias` down by: 全部, and the child's
    性别, 学段 and each of its 重点群体 (a child can be in several). -#}
{% macro backtest_groups(alias) -%}
    select '全部' as group_kind, '全部' as group_value
    union all select '性别', {{ alias }}.sex where {{ alias }}.sex is not null
    union all select '学段', {{ alias }}.stage_band where {{ alias }}.stage_band is not null
    union all select '重点群体', unnest({{ alias }}.priority_groups)
{%- endmacro %}
