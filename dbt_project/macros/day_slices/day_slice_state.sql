{#- on-run-start: the state table of the day_slices strategy (macros/day_slices/).
    Earlier releases kept one table per model (intermediate.<model>__processed_days);
    their rows move here once, so an upgraded warehouse stays incremental; a model
    replaced by another leaves neither its table nor its state behind. -#}
{% macro create_day_slice_state() %}
    create table if not exists intermediate.day_slice_state (
        model text not null,
        term_id text not null,
        day date not null,
        version text,
        -- when the model's tests last passed over the day (mark_verified_days)
        verified_at timestamptz,
        primary key (model, term_id, day)
    );
    do $migrate$
    declare
        old record;
    begin
        for old in
            select tablename from pg_tables
            where schemaname = 'intermediate' and tablename like '%\_\_processed\_days'
        loop
            execute format(
                'insert into intermediate.day_slice_state (model, term_id, day, version, verified_at) '
                'select %L, term_id, day, version, verified_at from intermediate.%I on conflict do nothing',
                replace(old.tablename, '__processed_days', ''), old.tablename
            );
            execute format('drop table intermediate.%I', old.tablename);
        end loop;
    end
    $migrate$;
    -- int_attendance_child_weeks became int_attendance_student_weeks (a first build):
    -- the old table and its state go, not left beside the new ones
    drop table if exists intermediate.int_attendance_child_weeks;
    delete from intermediate.day_slice_state where model = 'int_attendance_child_weeks';
{% endmacro %}
