"""Budget repurposing (What Works Cities "repurposing for results"; Jackson, MS): programme cost-effectiveness,
peer benchmarks, consistently failing programmes and sites, where money could move, a least-harm cut scenario
and vacant positions.

Pure logic over DataFrames and DuckDB connections (one concept per module); ``assets`` writes the results to
``metrics.*`` and ``cli`` prints them. Methods and assumptions: docs/budget_repurposing.md.
"""
