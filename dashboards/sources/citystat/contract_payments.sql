-- Performance payment audit lines: one per benchmark and per penalty of every contract.
select
    cast(season_year as varchar) as season, -- text: the pages filter on it (numbers reach the browser as doubles)
    season_year, contract_id, vendor_id, line_no, period, line_kind, component, benchmark, due_date, target, actual,
    pool_share, earned, penalty, net, status, reason
from metrics.contract_payments
