-- Checks that a department's identity numbers agree with the same row's 出生日期/性别.
-- Why it matters: the number wins (birth date and sex are taken from it), so a
-- disagreement means either the number was mistyped - and may belong to another child -
-- or the row's own columns are wrong; either way the department's record needs checking.
-- How to fix: ask the department to verify the child's 身份证号 against the household
-- register and re-deliver the corrected file; the failing rows are stored in audit.
{% test no_identity_conflicts(model, column_name) %}
select term_id, child_key, {{ column_name }} as conflicting_fields
from {{ model }}
where {{ column_name }} is not null
{% endtest %}
