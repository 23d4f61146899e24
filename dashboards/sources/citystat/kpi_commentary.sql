-- The departments' line of context per KPI and month, written in the performance office's workbench
-- (the latest line written wins). Free text: components show it as text, never as HTML.
select kpi_id, department_code, period, comment, author, strftime(written_at, '%Y-%m-%d') as written_on
from metrics.kpi_commentary
