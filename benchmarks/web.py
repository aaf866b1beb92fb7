"""Web benchmark: time to first streamed piece (SSE) and to the full answer over HTTP, against a
server started the README way (`repere serve`) on loopback with its own temp data folder.

Run: ``python -m benchmarks.web [--questions 60]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx

from benchmarks.retrieval import EVAL_SET, percentile
from evals.run import load_items


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args(argv)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, REPERE_DATA_DIR=tmp, REPERE_RATE_LIMIT_PER_MINUTE="100000")
        server = subprocess.Popen(
            [sys.executable, "-m", "repere.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            items = load_items(EVAL_SET)[: args.questions]
            first, full, plain = [], [], []
            with httpx.Client(base_url=base, timeout=30) as client:
                for item in items:
                    params = {"question": item["question"], "audience": item["audience"]}
                    start = time.perf_counter()
                    with client.stream("POST", "/api/ask/stream", data=params) as response:
                        for index, _ in enumerate(response.iter_bytes()):
                            if index == 0:
                                first.append((time.perf_counter() - start) * 1000)
                    full.append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    client.post("/api/ask", json=params).raise_for_status()
                    plain.append((time.perf_counter() - start) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=20)
    for name, values in (("first SSE piece", first), ("full SSE answer", full), ("POST /api/ask", plain)):
        print(
            f"{name} over {len(values)} questions: p50 {percentile(values, 0.5):.1f} ms, "
            f"p95 {percentile(values, 0.95):.1f} ms"
        )


if __name__ == "__main__":
    main()
