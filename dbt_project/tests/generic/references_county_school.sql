-- Checks that 在读 registrations point at a school in the term's schools feed.
-- Why it matters: a 在读 student at a school the county does not list cannot be checked
-- against attendance, so phantom enrolment and dropout go unseen for that school.
-- How to fix: add the school to the schools delivery (教育局), or correct the
-- 学校标识码 in the registry export if it was mistyped.
{% test references_county_school(model, column_name) %}
select registrations.term_id, registrations.{{ column_name }}, count(*) as registrations
from {{ model }} as registrations
where registrations.registry_status = '在读'
    and not exists (
        select 1 from {{ ref('stg_jiaoyu__schools') }} as schools
        where schools.term_id = registrations.term_id and schools.school_code = registrations.{{ column_name }}
    )
group by registrations.term_id, registrations.{{ column_name }}
{% endtest %}
