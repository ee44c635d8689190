-- Schemas and the audit tables every load writes to. Idempotent: applied on every run.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists audit;
create schema if not exists pii;

create table if not exists audit.load_files (
    load_id bigint generated always as identity primary key,
    term_id text not null,
    feed text not null,
    file_name text not null,
    sha256 text not null,
    encoding text,
    rows_read integer not null default 0,
    rows_loaded integer not null default 0,
    rows_rejected integer not null default 0,
    status text not null check (status in ('loading', 'loaded', 'rejected')),
    message text,
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    superseded_at timestamptz,
    constraint rows_add_up check (status = 'loading' or rows_read = rows_loaded + rows_rejected)
);
create index if not exists load_files_current on audit.load_files (term_id, feed) where superseded_at is null;
-- Per-file times: a feed's files load in one transaction, where now() would give them all
-- the same time.
alter table audit.load_files alter column started_at set default clock_timestamp();

comment on table audit.load_files is '数据加载记录：每个交付文件一行 / one row per delivered file';
comment on column audit.load_files.rows_read is '读取行数（= 入库行数 + 隔离行数）';
comment on column audit.load_files.rows_loaded is '入库行数';
comment on column audit.load_files.rows_rejected is '隔离行数（见 audit.rejected_rows）';
comment on column audit.load_files.superseded_at is '被更正交付替代的时间；为空表示当前版本';
-- Government spreadsheets open with a title and note rows above the header (SPEC §2).
alter table audit.load_files add column if not exists header_row integer;
alter table audit.load_files add column if not exists title_text text;
comment on column audit.load_files.header_row is '表头所在行（Excel 行号）；其上各行为标题或说明，不是数据';
comment on column audit.load_files.title_text is '表头之上的标题和说明行文字（报送单位等；人名和长数字已隐去）';

create table if not exists audit.rejected_rows (
    load_id bigint not null references audit.load_files (load_id),
    source_row integer not null,
    reason text not null,
    reason_label text not null,
    column_name text,
    raw_row jsonb not null,
    primary key (load_id, source_row)
);
comment on table audit.rejected_rows is '隔离行：无法入库的行及原因 / rows that could not be loaded, with the reason';

-- child_key = HMAC-SHA256(KCBX_PII_KEY, identity number), computed by the loader in
-- Python: the secret never enters the warehouse. This map is the only link from a key
-- back to the number; `material` is the 18-digit number, or 'student:<全国学籍号>'
-- for a child without one.
create table if not exists pii.child_keys (
    material text primary key,
    child_key text not null unique
);
comment on table pii.child_keys is '儿童键映射（仅限特权角色）';

-- Fingerprint of the key the map was built with: a different KCBX_PII_KEY would give
-- the same child two keys, so the loader refuses to run with it.
create table if not exists pii.key_fingerprint (
    singleton boolean primary key default true check (singleton),
    fingerprint text not null
);

create table if not exists audit.gx_results (
    run_id text not null,
    term_id text not null,
    suite text not null,
    expectation text not null,
    column_name text,
    success boolean not null,
    observed_value text,
    unexpected_count bigint,
    severity text not null,
    validated_at timestamptz not null default now()
);
comment on table audit.gx_results is '数据质量检查结果（Great Expectations）';
-- A check that could not run (its query raised) is an error, not data that failed (#26):
-- status passed/failed/error (success stays, true only when passed); error is the
-- exception's class, never its message. Rows written before the column say what their
-- success said, so readers need no fallback.
alter table audit.gx_results
    add column if not exists status text check (status in ('passed', 'failed', 'error')),
    add column if not exists error text;
update audit.gx_results set status = case when success then 'passed' else 'failed' end where status is null;
alter table audit.gx_results alter column status set not null;

-- Cells of delivered free text that a spreadsheet would read as a formula or DDE command
-- (=, +, -, @, tab, CR: OWASP CSV injection). The rows load; this records where such a
-- value is, never the value. KCBX writes every such cell as text in its workbooks.
create table if not exists audit.formula_cells (
    load_id bigint not null references audit.load_files (load_id),
    source_row integer not null,
    column_name text not null,
    primary key (load_id, source_row, column_name)
);
comment on table audit.formula_cells is '疑似公式注入的单元格（以 = + - @ 开头的文本；已按文本写入台账）/ delivered text that a spreadsheet would run as a formula';

-- Cells of delivered free text that held control characters (C0, DEL; a NUL byte
-- included). The loader removes them before the row is stored (a workbook cannot hold
-- them and PostgreSQL refuses NUL) and records where they were, never the value.
create table if not exists audit.control_char_cells (
    load_id bigint not null references audit.load_files (load_id),
    source_row integer not null,
    column_name text not null,
    primary key (load_id, source_row, column_name)
);
comment on table audit.control_char_cells is '含控制字符的单元格（已在入库时删除控制字符）/ delivered cells whose control characters were removed on load';

-- Which version of these set-up files the warehouse has: stages check it and ask for
-- the one-time set-up (`kcbx db setup`) when the code is newer.
create table if not exists audit.setup_version (
    singleton boolean primary key default true check (singleton),
    version text not null,
    applied_at timestamptz not null default now()
);
