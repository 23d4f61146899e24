"""Peer flagging by robust z-score (median / MAD), on numbers worked out by hand."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from citystat.budget.peers import ABOVE, BELOW, benchmark, flag_for, percentile_rank, robust_z

# peers 10, 12, 14, 16, 18: median 14, absolute deviations 4, 2, 0, 2, 4 -> MAD 2 -> spread 1.4826 x 2 = 2.9652
PEERS = [10.0, 12.0, 14.0, 16.0, 18.0]


def test_robust_z_is_distance_from_the_peer_median_in_scaled_mads():
    assert robust_z(30.0, PEERS) == pytest.approx(16 / 2.9652)  # 5.396: far out
    assert robust_z(20.0, PEERS) == pytest.approx(6 / 2.9652)  # 2.023: above every peer, yet not unusual
    assert robust_z(8.0, PEERS) == pytest.approx(-6 / 2.9652)
    assert robust_z(14.0, PEERS) == 0.0


def test_one_extreme_peer_does_not_move_the_yardstick():
    # a peer at 1,000 would drag a mean and standard deviation; the median (14) and MAD (2) do not move
    assert robust_z(30.0, [10.0, 12.0, 14.0, 16.0, 1000.0]) == pytest.approx(16 / 2.9652)


def test_mad_of_zero_falls_back_to_the_mean_absolute_deviation():
    # peers 10, 10, 10, 12, 20: median 10, deviations 0, 0, 0, 2, 10 -> MAD 0; mean AD 12/5 = 2.4 -> spread 1.2533 x 2.4
    assert robust_z(25.0, [10.0, 10.0, 10.0, 12.0, 20.0]) == pytest.approx(15 / (1.2533 * 2.4))


def test_identical_peers_make_any_difference_infinitely_unusual():
    assert robust_z(10.0, [10.0, 10.0, 10.0]) == 0.0
    assert robust_z(11.0, [10.0, 10.0, 10.0]) == math.inf
    assert robust_z(9.0, [10.0, 10.0, 10.0]) == -math.inf


def test_too_few_peers_give_no_score():
    assert robust_z(30.0, [10.0, 12.0]) is None
    assert flag_for(None) is None


def test_flag_only_beyond_three_and_a_half():
    assert flag_for(3.5) is None and flag_for(-3.5) is None  # on the line: not flagged
    assert flag_for(3.5001) == ABOVE
    assert flag_for(-3.6) == BELOW


def test_percentile_rank_counts_ties_half():
    assert percentile_rank(15.0, PEERS) == 60.0  # 10, 12, 14 below
    assert percentile_rank(14.0, PEERS) == 50.0  # 2 below + half of the tie
    assert percentile_rank(30.0, PEERS) == 100.0
    assert percentile_rank(5.0, PEERS) == 0.0


def _spending(function: str, riverton: float, peers: list[float], year: int = 2026) -> list[dict]:
    rows = [{"city": f"Peer{i}", "fiscal_year": year, "function_code": function, "population": 300_000,
             "spending": p * 300_000, "per_capita": p, "is_riverton": False} for i, p in enumerate(peers)]
    rows.append({"city": "Riverton", "fiscal_year": year, "function_code": function, "population": 350_000,
                 "spending": riverton * 350_000, "per_capita": riverton, "is_riverton": True})
    return rows


def test_benchmark_flags_the_disproportionate_function_and_prices_the_excess():
    frame = pd.DataFrame(_spending("fleet", 30.0, PEERS) + _spending("pol", 20.0, PEERS) + _spending("lib", 11.0, PEERS[:2]))
    table = benchmark(frame).set_index("function_code")

    fleet = table.loc["fleet"]
    assert fleet["flag"] == ABOVE
    assert fleet["robust_z"] == pytest.approx(5.396, abs=1e-3)
    assert fleet["ratio_to_peer_median"] == pytest.approx(30 / 14)
    assert fleet["excess_over_peer_median"] == pytest.approx((30 - 14) * 350_000)  # $5.6M above a typical peer
    assert (fleet["peer_count"], fleet["peer_median_per_capita"], fleet["peer_mad_per_capita"]) == (5, 14.0, 2.0)
    assert "disproportionate" in fleet["explanation"] and "2.14x the peer median" in fleet["explanation"]

    police = table.loc["pol"]  # the highest spender, but within the peers' spread: reported, not flagged
    assert police["above_peer_max"] and pd.isna(police["flag"]) and police["percentile_rank"] == 100.0

    library = table.loc["lib"]  # two peers only: not compared
    assert pd.isna(library["robust_z"]) and pd.isna(library["flag"]) and "not compared" in library["explanation"]


def test_a_function_riverton_does_not_report_is_left_out():
    frame = pd.DataFrame([r for r in _spending("parks", 15.0, PEERS) if not r["is_riverton"]])
    assert benchmark(frame).empty
