-- In-season grades of the results-driven paving contracts (graded three quarters through the season).
select
    cast(season_year as varchar) as season, -- text: the pages filter on it (numbers reach the browser as doubles)
    season_year, contract_id, vendor_id, vendor_name, region, status, graded_on, data_through, score, grade, rank,
    progression_points, timeliness_points, pavement_quality_points, rework_points, parking_points,
    environmental_points, progress_vs_plan, avg_days_late, avg_pci_after, rework_share, miles_completed,
    planned_miles, evidence, notes
from metrics.contract_grades
