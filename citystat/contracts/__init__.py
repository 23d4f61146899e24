"""Contract performance (results-driven contracting): metrics per contract and period, performance
payments with an audit trail, in-season grading, final-quarter work allocation and vendor scorecards.

The rules are the procurement officer's reference in docs/contracts_performance.md. Pure logic takes
DataFrames (``inputs.ContractData``); ``assets`` writes the ``metrics`` tables; ``cli`` prints grades.
"""
