-- Checks that a combination of columns identifies one row (a fact's grain). A
-- duplicate means a join fanned out or a source delivered the same entity twice;
-- fix the model's join keys or the source delivery, never by adding distinct.
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
