-- The least-harm cut scenario (default 7.6%): one row per programme with the decision and the reason.
select
    cut_pct, step, program_code, program_name, department_code, base_budget, floor_budget, outcome_index,
    peer_flag, execution_pct, outcome_per_dollar, outcome_per_dollar_rank, consolidation_savings, service_cut,
    proposed_cut, cut_share_pct, new_budget, est_outcome_change_pct, est_outcomes_lost_per_year, decision,
    explanation
from metrics.budget_scenario
