-- The engine's floor: the large CityStat marts computed by ONE plain DuckDB script over the same landing
-- Parquet the pipeline reads -- the minimal SQL a skilled engineer would write for the same results, with
-- none of the pipeline's machinery (no Dagster, no dbt, no quarantine tables, no tests, no lineage columns).
--
-- It still does the work the marts need: keep each record's latest version, type the text values, drop the
-- caller contact (PII) columns, mask contact details in free text, drop rows that break the hard rules the
-- KPIs depend on (missing keys, unreadable times, codes not in the reference data, dates after as-of,
-- closed before opened), then the facts' logic (SLA, on-time, days to close, repeat request within 30 days,
-- response intervals, fiscal calendar) and the main KPIs of kpi_values.
--
-- Inputs (DuckDB variables): landing = <warehouse>/landing, as_of = 'YYYY-MM-DD' (the data's "today").
--   duckdb floor.duckdb -c "SET VARIABLE landing = 'warehouse/landing'; SET VARIABLE as_of = '2026-10-31'; .read benchmarks/floor.sql"
-- benchmarks/warehouse_build.py runs it with the duckdb Python client and times it beside `citystat run`.

SET TimeZone = 'UTC';  -- naive landing times are wall-clock local time, never shifted by the machine's zone
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE MACRO txt(v) AS nullif(trim(CAST(v AS VARCHAR)), '');
CREATE OR REPLACE MACRO local_ts(v) AS timezone('America/New_York', try_cast(txt(v) AS TIMESTAMPTZ));
CREATE OR REPLACE MACRO masked(v) AS regexp_replace(
    regexp_replace(txt(v), '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '[email redacted]', 'g'),
    '(^|[^0-9A-Za-z_-])(\+?1[ .-]?)?(\(\d{3}\) ?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}([^0-9]|$)', '\1[phone redacted]\4', 'g');
CREATE OR REPLACE MACRO money(v) AS try_cast(replace(replace(txt(v), ',', ''), '$', '') AS DECIMAL(18, 2));
CREATE OR REPLACE MACRO fiscal_year(d) AS year(d) + CASE WHEN month(d) >= 7 THEN 1 ELSE 0 END;
CREATE OR REPLACE MACRO fiscal_period(d) AS (month(d) + 5) % 12 + 1;
CREATE OR REPLACE MACRO not_after_as_of(t) AS t IS NULL OR t < CAST(getvariable('as_of') AS DATE) + INTERVAL 1 DAY;

-- 311 service types (reference for valid codes) ------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE service_types AS
SELECT upper(txt(service_code)) AS service_code, any_value(try_cast(sla_days AS DOUBLE)) AS sla_days
FROM read_parquet(getvariable('landing') || '/crm311/services/*.parquet', union_by_name = true)
GROUP BY ALL;

-- fct_service_requests: latest version of each request, SLA, on time, days to close, repeat within 30 days --
-- Typed once into a temporary table: each fact's rules and logic then read plain columns (an inlined
-- expression referenced by several rules would be re-evaluated by each).
CREATE OR REPLACE TEMP TABLE service_requests AS
SELECT * EXCLUDE (_extracted_at, _load_id, _row_number)
FROM (
    SELECT
        txt(service_request_id) AS service_request_id,
        upper(txt(service_code)) AS service_code,
        txt(service_name) AS service_name,
        lower(txt(agency_responsible)) AS department_code,
        lower(txt(status)) AS status,
        local_ts(requested_datetime) AS requested_at,
        local_ts(updated_datetime) AS updated_at,
        local_ts(expected_datetime) AS sla_due_at,
        local_ts(closed_datetime) AS closed_at,
        txt(address_id) AS address_id,
        txt(address) AS address,
        txt(zipcode) AS zipcode,
        try_cast(lat AS DOUBLE) AS latitude,
        try_cast(long AS DOUBLE) AS longitude,
        description,  -- caller contact columns (first_name, last_name, phone, email) are never read
        status_notes,
        txt(media_url) IS NOT NULL AS has_media,
        _extracted_at, _load_id, _row_number
    FROM read_parquet(getvariable('landing') || '/crm311/service_requests/*.parquet', union_by_name = true)
)
QUALIFY row_number() OVER (PARTITION BY service_request_id
                           ORDER BY updated_at DESC NULLS LAST, _extracted_at DESC, _load_id DESC, _row_number DESC) = 1;

CREATE OR REPLACE TABLE marts.fct_service_requests AS
WITH valid AS (
    SELECT * FROM service_requests
    WHERE service_request_id IS NOT NULL AND requested_at IS NOT NULL AND updated_at IS NOT NULL
        AND status IN ('open', 'closed') AND NOT (status = 'closed' AND closed_at IS NULL)
        AND service_code IN (SELECT service_code FROM service_types)
        AND (closed_at IS NULL OR closed_at >= requested_at)
        AND not_after_as_of(requested_at) AND not_after_as_of(closed_at)
)
SELECT
    * EXCLUDE (description, status_notes, has_media),
    status = 'closed' AS is_closed,
    CAST(requested_at AS DATE) AS requested_date,
    CAST(closed_at AS DATE) AS closed_date,
    CASE WHEN closed_at IS NOT NULL AND sla_due_at IS NOT NULL THEN closed_at <= sla_due_at END AS closed_on_time,
    (epoch(closed_at) - epoch(requested_at)) / 86400.0 AS days_to_close,
    coalesce(address_id IS NOT NULL AND requested_at - lag(requested_at) OVER (
        PARTITION BY address_id, service_code ORDER BY requested_at, service_request_id) <= INTERVAL 30 DAY, false)
        AS is_repeat_within_30d,
    masked(description) AS description,
    masked(status_notes) AS status_notes,
    has_media
FROM valid;

-- fct_work_orders -------------------------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE work_orders AS
SELECT * EXCLUDE (_extracted_at, _load_id, _row_number)
FROM (
    SELECT
        txt(work_order_id) AS work_order_id,
        txt(service_request_id) AS service_request_id,
        txt(asset_id) AS asset_id,
        lower(txt(work_type)) AS work_type,
        txt(crew_id) AS crew_id,
        lower(txt(status)) AS status,
        try_cast(txt(created_at) AS TIMESTAMP) AS created_at,
        try_cast(txt(scheduled_date) AS DATE) AS scheduled_date,
        try_cast(txt(completed_at) AS TIMESTAMP) AS completed_at,
        try_cast(labor_hours AS DOUBLE) AS labor_hours,
        money(material_cost) AS material_cost,
        try_cast(txt(updated_at) AS TIMESTAMP) AS updated_at,
        _extracted_at, _load_id, _row_number
    FROM read_parquet(getvariable('landing') || '/pw_mms/work_orders/*.parquet', union_by_name = true)
)
QUALIFY row_number() OVER (PARTITION BY work_order_id
                           ORDER BY updated_at DESC NULLS LAST, _extracted_at DESC, _load_id DESC, _row_number DESC) = 1;

CREATE OR REPLACE TABLE marts.fct_work_orders AS
SELECT
    *,
    status = 'completed' AS is_completed,
    CAST(created_at AS DATE) AS created_date,
    CAST(completed_at AS DATE) AS completed_date,
    (epoch(completed_at) - epoch(created_at)) / 86400.0 AS days_to_complete
FROM work_orders
WHERE work_order_id IS NOT NULL AND created_at IS NOT NULL
    AND status IN ('open', 'scheduled', 'completed', 'cancelled') AND NOT (status = 'completed' AND completed_at IS NULL)
    AND (completed_at IS NULL OR completed_at >= created_at)
    AND (labor_hours IS NULL OR labor_hours BETWEEN 0 AND 500) AND (material_cost IS NULL OR material_cost BETWEEN 0 AND 1000000)
    AND not_after_as_of(created_at) AND not_after_as_of(completed_at)
    AND (crew_id IS NULL OR crew_id IN (SELECT txt(crew_id) FROM read_parquet(getvariable('landing') || '/pw_mms/crews/*.parquet', union_by_name = true)))
    AND (asset_id IS NULL OR asset_id IN (SELECT txt(asset_id) FROM read_parquet(getvariable('landing') || '/pw_mms/assets/*.parquet', union_by_name = true)));

-- fct_fire_incidents: response intervals (NFPA 1710 terms); the address is not carried -------------------
CREATE OR REPLACE TEMP TABLE fire_incidents AS
SELECT * EXCLUDE (_extracted_at, _load_id, _row_number)
FROM (
    SELECT
        txt(incident_id) AS incident_id,
        lower(txt(incident_type)) AS incident_type,
        try_cast(priority AS INTEGER) AS priority,
        txt(station_id) AS station_id,
        lower(txt(district)) AS district,
        try_cast(txt(alarm_time) AS TIMESTAMP) AS alarm_time,
        try_cast(txt(dispatch_time) AS TIMESTAMP) AS dispatch_time,
        try_cast(txt(enroute_time) AS TIMESTAMP) AS enroute_time,
        try_cast(txt(arrival_time) AS TIMESTAMP) AS arrival_time,
        try_cast(txt(cleared_time) AS TIMESTAMP) AS cleared_time,
        try_cast(txt(updated_at) AS TIMESTAMP) AS updated_at,  -- the street address is never read
        -- a time given but unreadable (e.g. 2034-02-29) drops the record, as the pipeline's uncastable-value rule does,
        -- rather than reading as "no arrival"
        (txt(priority) IS NOT NULL AND try_cast(priority AS INTEGER) IS NULL)
            OR list_bool_or([txt(t) IS NOT NULL AND try_cast(txt(t) AS TIMESTAMP) IS NULL
                             FOR t IN [alarm_time, dispatch_time, enroute_time, arrival_time, cleared_time]]) AS unreadable,
        _extracted_at, _load_id, _row_number
    FROM read_parquet(getvariable('landing') || '/fire_cad/incidents/*.parquet', union_by_name = true)
)
QUALIFY row_number() OVER (PARTITION BY incident_id
                           ORDER BY updated_at DESC NULLS LAST, _extracted_at DESC, _load_id DESC, _row_number DESC) = 1;

CREATE OR REPLACE TABLE marts.fct_fire_incidents AS
SELECT
    * EXCLUDE (unreadable),
    CAST(alarm_time AS DATE) AS alarm_date,
    arrival_time IS NOT NULL AS had_arrival,
    epoch(dispatch_time) - epoch(alarm_time) AS call_processing_seconds,
    epoch(enroute_time) - epoch(dispatch_time) AS turnout_seconds,
    epoch(arrival_time) - epoch(enroute_time) AS travel_seconds,
    epoch(arrival_time) - epoch(alarm_time) AS alarm_to_arrival_seconds,
    epoch(cleared_time) - epoch(alarm_time) AS time_on_scene_total_seconds
FROM fire_incidents
WHERE incident_id IS NOT NULL AND alarm_time IS NOT NULL AND NOT unreadable AND priority BETWEEN 1 AND 3
    AND (dispatch_time IS NULL OR dispatch_time >= alarm_time) AND (enroute_time IS NULL OR enroute_time >= dispatch_time)
    AND (arrival_time IS NULL OR arrival_time >= enroute_time) AND (cleared_time IS NULL OR cleared_time >= alarm_time)
    AND not_after_as_of(alarm_time) AND not_after_as_of(arrival_time) AND not_after_as_of(cleared_time);

-- fct_budget_lines: a later file for the same fiscal year supersedes the earlier lines ---------------------
CREATE OR REPLACE TABLE marts.fct_budget_lines AS
SELECT
    try_cast(txt(fiscal_year) AS INTEGER) AS fiscal_year,
    lower(txt(department_code)) AS department_code,
    lower(txt(program_code)) AS program_code,
    txt(program_name) AS program_name,
    lower(txt(fund)) AS fund,
    txt(account) AS account,
    money(adopted_amount) AS adopted_amount,
    money(revised_amount) AS revised_amount
FROM read_parquet(getvariable('landing') || '/fin_erp/budget/*.parquet', union_by_name = true)
WHERE try_cast(txt(fiscal_year) AS INTEGER) IS NOT NULL AND money(revised_amount) >= 0
QUALIFY row_number() OVER (PARTITION BY fiscal_year, program_code, fund, account
                           ORDER BY _extracted_at DESC, _load_id DESC, _source_file DESC, _row_number DESC) = 1;

-- fct_expenditures: general-ledger lines; reversals are negative lines that undo a mis-posting -------------
CREATE OR REPLACE TEMP TABLE expenditures AS
SELECT * EXCLUDE (_extracted_at, _load_id, _source_file, _row_number)
FROM (
    SELECT
        txt(ledger_id) AS ledger_id,
        try_cast(txt(posting_date) AS DATE) AS posting_date,
        try_cast(txt(fiscal_year) AS INTEGER) AS fiscal_year,
        try_cast(txt(fiscal_period) AS INTEGER) AS fiscal_period,
        lower(txt(department_code)) AS department_code,
        lower(txt(program_code)) AS program_code,
        lower(txt(fund)) AS fund,
        txt(account) AS account,
        txt(vendor_id) AS vendor_id,
        money(amount) AS amount,
        txt(description) LIKE 'Reversal of %' AS is_reversal,
        description,
        _extracted_at, _load_id, _source_file, _row_number
    FROM read_parquet(getvariable('landing') || '/fin_erp/expenditures/*.parquet', union_by_name = true)
)
QUALIFY row_number() OVER (PARTITION BY ledger_id ORDER BY _extracted_at DESC, _load_id DESC, _source_file DESC, _row_number DESC) = 1;

CREATE OR REPLACE TABLE marts.fct_expenditures AS
SELECT
    * EXCLUDE (description),
    CAST(date_trunc('month', posting_date) AS DATE) AS posting_month,
    (fiscal_period - 1) // 3 + 1 AS fiscal_quarter,
    masked(description) AS description
FROM expenditures
WHERE ledger_id IS NOT NULL AND posting_date IS NOT NULL AND amount IS NOT NULL
    AND NOT (amount < 0 AND NOT is_reversal) AND abs(amount) <= 100000000
    AND fiscal_year = fiscal_year(posting_date) AND fiscal_period = fiscal_period(posting_date)
    AND program_code IN (SELECT program_code FROM marts.fct_budget_lines)
    AND (vendor_id IS NULL OR vendor_id IN (SELECT txt(vendor_id) FROM read_parquet(getvariable('landing') || '/proc_portal/vendors/*.parquet', union_by_name = true)))
    AND not_after_as_of(posting_date);

-- fct_positions: month-end snapshots, filled or vacant (no employee names) ---------------------------------
CREATE OR REPLACE TABLE marts.fct_positions AS
WITH typed AS (
    SELECT
        try_cast(txt(snapshot_date) AS DATE) AS snapshot_date,
        txt(position_id) AS position_id,
        lower(txt(department_code)) AS department_code,
        lower(txt(program_code)) AS program_code,
        txt(title) AS title,
        lower(txt(status)) AS status,
        try_cast(txt(vacant_since) AS DATE) AS vacant_since,
        money(annual_salary) AS annual_salary
    FROM read_parquet(getvariable('landing') || '/fin_erp/positions/*.parquet', union_by_name = true)
    QUALIFY row_number() OVER (PARTITION BY snapshot_date, position_id
                               ORDER BY _extracted_at DESC, _load_id DESC, _source_file DESC, _row_number DESC) = 1
)
SELECT
    *,
    CAST(date_trunc('month', snapshot_date) AS DATE) AS snapshot_month,
    status = 'vacant' AS is_vacant,
    CASE WHEN status = 'vacant' THEN date_diff('day', vacant_since, snapshot_date) END AS days_vacant
FROM typed
WHERE snapshot_date IS NOT NULL AND position_id IS NOT NULL AND status IN ('filled', 'vacant')
    AND NOT (status = 'vacant' AND vacant_since IS NULL) AND not_after_as_of(snapshot_date);

-- kpi_values: the main computed KPIs, one row per KPI and month (pct 0-100; NULL when the denominator is 0) --
CREATE OR REPLACE TABLE marts.kpi_values AS
WITH requests AS (
    SELECT *, CAST(date_trunc('month', closed_date) AS DATE) AS closed_month,
              CAST(date_trunc('month', requested_date) AS DATE) AS requested_month
    FROM marts.fct_service_requests
),
closed_by_department AS (  -- each department, and citywide under 311 ('cs')
    SELECT department_code, closed_month, closed_on_time, days_to_close FROM requests WHERE closed_at IS NOT NULL
    UNION ALL
    SELECT 'cs', closed_month, closed_on_time, days_to_close FROM requests WHERE closed_at IS NOT NULL
),
spending AS (
    SELECT fiscal_year, fiscal_period, posting_month, department_code, sum(amount) AS spent
    FROM marts.fct_expenditures GROUP BY ALL
),
budget AS (
    SELECT fiscal_year, department_code, sum(revised_amount) AS revised FROM marts.fct_budget_lines GROUP BY ALL
),
fytd AS (  -- fiscal year to date spending at each month end, by department, with the year's revised budget
    SELECT months.posting_month AS period_month, months.fiscal_period, departments.department_code,
           sum(spending.spent) AS spent_fytd, any_value(budget.revised) AS revised
    FROM (SELECT DISTINCT fiscal_year, fiscal_period, posting_month FROM spending) AS months
    JOIN (SELECT fiscal_year, department_code FROM budget UNION SELECT fiscal_year, department_code FROM spending) AS departments
        USING (fiscal_year)
    LEFT JOIN spending ON spending.fiscal_year = months.fiscal_year
        AND spending.department_code = departments.department_code AND spending.fiscal_period <= months.fiscal_period
    LEFT JOIN budget ON budget.fiscal_year = months.fiscal_year AND budget.department_code = departments.department_code
    GROUP BY ALL
),
work_orders_done AS (
    SELECT CAST(date_trunc('month', completed_date) AS DATE) AS period_month, count(*) AS completed
    FROM marts.fct_work_orders WHERE is_completed AND completed_date IS NOT NULL GROUP BY ALL
),
incidents AS (
    SELECT *, CAST(date_trunc('month', alarm_time) AS DATE) AS alarm_month,
              CAST(date_trunc('month', arrival_time) AS DATE) AS arrival_month
    FROM marts.fct_fire_incidents
),
computed (kpi_id, department_code, period_month, numerator, denominator, value) AS (
    SELECT department_code || '_on_time_pct', department_code, closed_month, count_if(closed_on_time), count(closed_on_time), NULL
    FROM closed_by_department GROUP BY ALL
    UNION ALL
    SELECT department_code || '_median_days_to_close', department_code, closed_month, NULL, count(days_to_close), median(days_to_close)
    FROM closed_by_department GROUP BY ALL
    UNION ALL
    SELECT CASE service_code WHEN 'POTHOLE' THEN 'pw_potholes_within_sla_pct' ELSE 'pw_streetlights_within_sla_pct' END,
           'pw', closed_month, count_if(closed_on_time), count(closed_on_time), NULL
    FROM requests WHERE closed_at IS NOT NULL AND service_code IN ('POTHOLE', 'STREETLIGHT') GROUP BY ALL
    UNION ALL
    SELECT 'cs_requests_received', 'cs', requested_month, count(*), NULL, count(*) FROM requests GROUP BY ALL
    UNION ALL
    SELECT 'cs_repeat_within_30d_pct', 'cs', requested_month, count_if(is_repeat_within_30d), count(*), NULL
    FROM requests GROUP BY ALL
    UNION ALL
    SELECT 'pw_work_orders_completed', 'pw', period_month, completed, NULL, completed FROM work_orders_done
    UNION ALL
    SELECT 'pw_cost_per_work_order', 'pw', w.period_month, s.spent, w.completed, s.spent / nullif(w.completed, 0)
    FROM work_orders_done AS w
    JOIN (SELECT posting_month AS period_month, sum(amount) AS spent FROM marts.fct_expenditures
          WHERE program_code IN ('pw_street_maint', 'pw_streetlights') GROUP BY ALL) AS s USING (period_month)
    UNION ALL
    SELECT 'fire_turnout_p90_sec', 'fire', alarm_month, NULL, count(turnout_seconds), quantile_cont(turnout_seconds, 0.9)
    FROM incidents WHERE turnout_seconds IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT 'fire_alarm_to_arrival_p90_sec', 'fire', arrival_month, NULL, count(alarm_to_arrival_seconds),
           quantile_cont(alarm_to_arrival_seconds, 0.9)
    FROM incidents WHERE alarm_to_arrival_seconds IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT 'fire_incidents_responded', 'fire', arrival_month, count(*), NULL, count(*) FROM incidents WHERE had_arrival GROUP BY ALL
    UNION ALL
    SELECT 'fin_budget_execution_pct', 'fin', period_month, sum(coalesce(spent_fytd, 0)),
           sum(revised) * any_value(fiscal_period) / 12, NULL
    FROM fytd GROUP BY period_month
    UNION ALL
    SELECT department_code || '_budget_execution_pct', department_code, period_month, coalesce(spent_fytd, 0),
           revised * fiscal_period / 12, NULL
    FROM fytd WHERE department_code <> 'fin'
    UNION ALL
    SELECT department_code || '_spending_per_capita', department_code, period_month, coalesce(spent_fytd, 0), 350000,
           coalesce(spent_fytd, 0) / 350000
    FROM fytd
    UNION ALL
    SELECT 'hr_position_vacancy_pct', 'hr', snapshot_month, count_if(is_vacant), count(*), NULL FROM marts.fct_positions GROUP BY ALL
)
SELECT
    kpi_id, department_code, period_month,
    fiscal_year(period_month) AS fiscal_year, fiscal_period(period_month) AS fiscal_period,
    CAST(numerator AS DOUBLE) AS numerator, CAST(denominator AS DOUBLE) AS denominator,
    CAST(coalesce(value, 100.0 * numerator / nullif(denominator, 0)) AS DOUBLE) AS value
FROM computed
WHERE period_month IS NOT NULL;
