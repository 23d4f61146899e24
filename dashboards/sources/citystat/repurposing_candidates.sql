-- Where the clients of a failing site could be served instead, with the estimated savings and outcome change.
select
    failing_site_id, failing_site_name, program_code, service_area, alternative_rank, alternative_site_id,
    alternative_site_name, window_start, window_end, clients_to_move, alternative_spare_places,
    places_in_spare_capacity, places_to_add, absorbs_all_clients, failing_monthly_cost, estimated_annual_savings,
    failing_outcome_rate, alternative_outcome_rate, outcome_target, estimated_outcome_change_pts,
    estimated_additional_outcomes_per_month, assumptions, explanation
from metrics.repurposing_candidates
