-- Vendor scorecards by paving season, with the record to date and the review-before-renewal flag.
select
    vendor_id, vendor_name, season_year, contracts, regions, contract_value, season_complete, planned_miles,
    miles_completed, share_miles_completed, on_time_share, avg_days_late, avg_pci_after, rework_share,
    performance_pool, performance_earned, pool_earned_share, penalties, amount_payable, cost_per_mile,
    in_season_score, in_season_grade, season_rank, vendors_in_season, lowest_in_season, final_quarter_miles,
    final_quarter_share, seasons_to_date, mean_score_to_date, seasons_lowest_to_date, review_flag, review_reason
from metrics.vendor_scorecards
