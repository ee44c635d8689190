-- The only place where child_key meets the identity number and name. Readable by
-- privileged roles only. The 户籍 row wins, then 学籍, then other departments.
with people as (
    {% for source_name, table_name, priority in [
        ('gongan', 'huji', 1), ('jiaoyu', 'xueji', 2), ('xiangcun', 'fupin', 3),
        ('canlian', 'canlian', 4), ('minzheng', 'minzheng', 5), ('sifa', 'sifa', 6),
        ('renshe', 'renshe', 7), ('quanfan', 'quanfan', 8)
    ] %}
    select
        term_id,
        {% if table_name == 'xueji' %}
        {{ child_key('id_number', 'student_no') }} as child_key,
        student_no,
        {% else %}
        {{ child_key('id_number') }} as child_key,
        null as student_no,
        {% endif %}
        id_number,
        name,
        {{ priority }} as priority
    from ({{ current_rows(source_name, table_name) }}) as delivered
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select distinct on (child_key)
        child_key,
        id_number,
        name,
        student_no
    from people
    order by child_key, term_id desc, priority
)

select * from final
