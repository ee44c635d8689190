-- Every finding of every rule of SPEC §3, one row per finding, before labelling.
with unioned as (
    {% for finding in [
        'out_of_school', 'phantom_enrolment', 'suspected_dropout', 'unregistered_attendance',
        'deregistered_enrolled', 'duplicate_registration', 'poverty_dropout',
        'disabled_unplaced', 'child_labour', 'school_missing_attendance', 'whereabouts_conflict',
        'exemption_unapproved', 'listed_child_unknown'
    ] %}
    select term_id, finding_type, child_key, school_code, township_code, details
    from {{ ref('int_findings__' ~ finding) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select * from unioned
)

select * from final
