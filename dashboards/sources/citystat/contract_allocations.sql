-- Final-quarter allocation of the remaining paving work by grade (one row per contract, plus unallocated).
select
    cast(season_year as varchar) as season, -- text: the pages filter on it (numbers reach the browser as doubles)
    season_year, graded_on, contract_id, vendor_id, vendor_name, region, status, grade, score, rank, pool_miles,
    own_remaining_miles, capacity_miles, minimum_miles, extra_miles, allocated_miles, allocated_share, rule
from metrics.contract_allocations
