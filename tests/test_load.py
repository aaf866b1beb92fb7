"""The load generator (benchmarks/loadgen.py) against the real server: a few seconds with 4 clients.
No timing assertion: it checks that the mix is made, nothing fails and the figures are well formed."""

from __future__ import annotations

import asyncio

from benchmarks.load import connections_by_process, memory_mib, process_tree
from benchmarks.loadgen import KINDS, percentiles, run_load


def test_load_generator_runs_the_mix_without_errors(server: str) -> None:
    result = asyncio.run(run_load(server, clients=4, duration=3.0, seed=1))
    assert result["errors"] == 0, result["errors_by_status"]
    assert all(result["by_kind"][kind] > 0 for kind in KINDS), result["by_kind"]
    assert result["requests"] == sum(result["by_kind"].values()) and result["throughput_rps"] > 0
    assert result["by_kind"]["ask"] > result["by_kind"]["source"]  # the mix is mostly questions
    for figures in (result["latency_ms"], *result["latency_ms_by_kind"].values()):
        assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"]
    # every accepted feedback got its own id, and a question always got the same answer
    assert len(set(result["feedback_ids"])) == len(result["feedback_ids"]) == result["by_kind"]["feedback"]
    assert result["inconsistent_answers"] == 0 and result["distinct_questions"] > 0


def test_percentiles_are_ordered_and_empty_safe() -> None:
    figures = percentiles([float(x) for x in range(1, 101)])
    assert figures == {"p50": 50.5, "p95": 95.05, "p99": 99.01, "max": 100.0}
    assert percentiles([]) == {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}


def test_memory_of_a_process_tree_from_proc() -> None:
    import os

    assert os.getpid() in process_tree(os.getpid())
    rss, pss, processes = memory_mib(os.getpid())
    assert rss > 10 and 0 < pss <= rss and processes >= 1


def test_connections_held_by_a_process_are_counted_from_proc() -> None:
    """The benchmark's count of the clients' connections per server process: accepted sockets on the
    listening port only (not the clients' own ends, not the listening socket)."""
    import os
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [server.accept()[0] for _ in clients]
        try:
            assert connections_by_process(os.getpid(), port) == [3]
            accepted.pop().close()
            assert connections_by_process(os.getpid(), port) == [2]
        finally:
            for sock in clients + accepted:
                sock.close()
