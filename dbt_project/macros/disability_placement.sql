{#- A disabled child's actual placement (安置方式, the 残联's 三类安置) from its shown 学籍:
    on the roll (在读/休学) with 就读方式 送教上门 -> 送教上门; at a 特殊教育学校, or 就读方式
    特教学校 -> 特殊教育学校; any other on the roll -> 随班就读; exempt (延缓/免于入学) -> 缓免学;
    otherwise 未安置. The 回执 to the 残联 and agg_disability_placement both read it. -#}
{% macro disability_placement(on_roll, study_mode, school_type, exempt) -%}
    case
        when {{ on_roll }} and {{ study_mode }} = '送教上门' then '送教上门'
        when {{ on_roll }} and ({{ school_type }} = '特殊教育学校' or {{ study_mode }} = '特教学校')
            then '特殊教育学校'
        when {{ on_roll }} then '随班就读'
        when {{ exempt }} then '缓免学'
        else '未安置'
    end
{%- endmacro %}
