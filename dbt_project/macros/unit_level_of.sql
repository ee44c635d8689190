{#- The reporting unit a row of a grouping-sets aggregate over (township, school) is. -#}
{% macro unit_level_of(township_column='township_code', school_column='school_code') -%}
    case
        when grouping({{ township_column }}) = 1 then 'county'
        {%- if school_column %}
        when grouping({{ school_column }}) = 1 then 'township'
        {%- endif %}
        else {{ "'school'" if school_column else "'township'" }}
    end
{%- endmacro %}
