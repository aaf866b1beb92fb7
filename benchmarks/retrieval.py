"""Retrieval benchmark: full index build from the raw sources, `search` latency in-process, memory.

Run: ``python -m benchmarks.retrieval [--repeat 3]``. Uses a fresh temp data folder each build.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from evals.run import load_items
from retrieval.embeddings import HashingEmbeddings
from retrieval.pipeline import prepare

EVAL_SET = Path(__file__).resolve().parent.parent / "evals" / "eval_set.jsonl"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="index builds to time")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the eval questions")
    args = parser.parse_args(argv)

    builds = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            _, stats = prepare(Path(tmp), HashingEmbeddings())
            builds.append(time.perf_counter() - start)
    print(
        f"index build (parse + chunk + embed + chroma + BM25), {stats.sections} sections, {stats.chunks} chunks: "
        f"median {statistics.median(builds):.2f} s, max {max(builds):.2f} s over {args.repeat}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        prepare(Path(tmp), HashingEmbeddings())
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        start = time.perf_counter()
        retriever, _ = prepare(Path(tmp), HashingEmbeddings())
        load = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        questions = [item["question"] for item in load_items(EVAL_SET)]
        latencies = []
        for _ in range(args.rounds):
            for question in questions:
                start = time.perf_counter()
                retriever.search(question, k=10)
                latencies.append((time.perf_counter() - start) * 1000)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    heap = peak / 2**20
    print(f"load existing index: {load:.2f} s; Python heap of the loaded retriever (tracemalloc peak): {heap:.1f} MiB")
    print(f"process max RSS: {rss_after / 1024:.0f} MiB (before loading: {rss_before / 1024:.0f} MiB)")
    print(
        f"search latency over {len(latencies)} queries: p50 {percentile(latencies, 0.5):.2f} ms, "
        f"p95 {percentile(latencies, 0.95):.2f} ms, max {max(latencies):.2f} ms"
    )


if __name__ == "__main__":
    main()
