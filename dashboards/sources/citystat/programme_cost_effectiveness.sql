-- Programme cost-effectiveness by fiscal year (about 50 programmes x 4 years).
select
    program_code, program_name, department_code, fiscal_year, months_posted, fiscal_year_complete, revised_budget,
    actual_spending, execution_pct, output_measure, output_units, cost_per_output, outcome_measure, outcome_units,
    cost_per_outcome, cost_per_outcome_change_pct, outcome_index, outcome_basis, ratio_to_peer_median, peer_flag,
    outcome_per_dollar
from metrics.programme_cost_effectiveness
