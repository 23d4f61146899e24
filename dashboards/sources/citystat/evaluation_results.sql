-- Low-cost evaluations: one row per evaluation and outcome (effects, 95% CIs, MDE, labels, the result in words).
select
    evaluation_id, title, outcome, outcome_label, dataset, outcome_unit, desired_direction, label, is_primary,
    pre_registered, status, as_of, start_date, end_date, report_date, unit_of_assignment, assignment_method,
    units_total, units_treated, n_treated, n_control, n_missing_outcome, clusters, mean_treated, mean_control,
    effect, std_error, ci_low, ci_high, p_value, mde, method, balanced, significant, result
from metrics.evaluation_results
