"""Answer benchmark: `ask` latency in-process with the default engine (extractive, no LLM).

Run: ``python -m benchmarks.answers [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assistant.answer import AnswerEngine
from benchmarks.retrieval import EVAL_SET, percentile
from evals.run import load_items
from retrieval.embeddings import HashingEmbeddings
from retrieval.pipeline import prepare


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the eval questions")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        retriever, _ = prepare(Path(tmp), HashingEmbeddings())
        start = time.perf_counter()
        engine = AnswerEngine(retriever)
        setup = time.perf_counter() - start
        items = load_items(EVAL_SET)
        latencies = []
        for _ in range(args.rounds):
            for item in items:
                start = time.perf_counter()
                engine.ask(item["question"], item["audience"])
                latencies.append((time.perf_counter() - start) * 1000)
    print(f"engine set-up (IDF and token sets over all chunks): {setup:.2f} s")
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(
        f"ask latency over {len(latencies)} questions (both audiences, refusals included): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(latencies):.1f} ms"
    )


if __name__ == "__main__":
    main()
