-- Low-cost evaluations: balance of the arms on each outcome before the start.
select
    evaluation_id, outcome, pre_start, pre_end, n_treated, n_control, mean_treated, mean_control, difference,
    ci_low, ci_high, p_value, std_difference, balanced, note
from metrics.evaluation_balance
