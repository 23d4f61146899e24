-- Riverton's spending per resident by function against the peer cities, by fiscal year.
select
    function_code, fiscal_year, riverton_per_capita, peer_count, peer_median_per_capita, peer_min_per_capita,
    peer_max_per_capita, ratio_to_peer_median, robust_z, percentile_rank, above_peer_max, flag,
    excess_over_peer_median, explanation
from metrics.peer_benchmarks
