"""Load generator: closed-loop HTTP clients (asyncio + httpx) running a realistic, seeded mix against a
running Repère server, for a fixed duration. Meant to run in its own process (see `benchmarks.load`).

Mix (per request, drawn from a seeded generator per client): ~80 % POST /api/ask with a question of the
eval set in its own audience (famille or professionnel), ~10 % GET /api/sources/{id} of a source cited
by that client's last answer, ~5 % GET of a page (the chat page or the fiche page of a cited passage),
~5 % POST /api/feedback on the last answer. A source, fiche or feedback request with no previous answer
with citations is replaced by a question.

Run: ``python -m benchmarks.loadgen --base http://127.0.0.1:8000 --clients 16 --duration 60 [--out r.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from evals.run import load_items

EVAL_SET = Path(__file__).resolve().parent.parent / "evals" / "eval_set.jsonl"
KINDS = ("ask", "source", "page", "feedback")
WEIGHTS = (80, 10, 5, 5)
FEEDBACK_COMMENT = "mesure de charge"  # recognisable in the feedback store


@dataclass
class Sample:
    kind: str
    started: float  # seconds since the start of the run
    latency_ms: float
    status: str  # HTTP status, or the name of the transport error


@dataclass
class Shared:
    """What the clients observe together: each question's answer (the same whichever worker answers it),
    questions answered differently, and the ids of the feedback entries stored (warm-up included)."""

    answers: dict[tuple[str, str], str] = field(default_factory=dict)
    inconsistent: set[tuple[str, str]] = field(default_factory=set)
    feedback_ids: list[int] = field(default_factory=list)
    requests: int = 0  # warm-up included


@dataclass
class ClientState:
    rng: random.Random
    shared: Shared
    last: dict[str, Any] | None = None  # last /api/ask response with citations
    samples: list[Sample] = field(default_factory=list)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    p50, p95, p99 = (float(x) for x in np.percentile(values, [50, 95, 99]))
    return {"p50": round(p50, 2), "p95": round(p95, 2), "p99": round(p99, 2), "max": round(max(values), 2)}


def questions(path: Path = EVAL_SET) -> list[tuple[str, str]]:
    """(question, audience) pairs from the eval set, in file order."""
    return [(item["question"], item["audience"]) for item in load_items(path)]


async def one_request(client: httpx.AsyncClient, state: ClientState, pool: list[tuple[str, str]]) -> Sample:
    rng = state.rng
    kind = rng.choices(KINDS, WEIGHTS)[0]
    if kind != "ask" and state.last is None:
        kind = "ask"
    question, audience = rng.choice(pool)
    cited = state.last["citations"][rng.randrange(len(state.last["citations"]))] if state.last else None
    useful = rng.random() < 0.7
    page_is_fiche = rng.random() < 0.5
    start = time.perf_counter()
    response: httpx.Response | None = None
    try:
        if kind == "ask":
            response = await client.post("/api/ask", json={"question": question, "audience": audience})
            if response.status_code == 200:
                body = response.json()
                key = (question, audience)
                if state.shared.answers.setdefault(key, body["answer"]) != body["answer"]:
                    state.shared.inconsistent.add(key)
                if body["citations"]:
                    state.last = body
        elif kind == "source":
            assert cited is not None
            response = await client.get(f"/api/sources/{cited['section_id']}")
        elif kind == "page":
            if page_is_fiche and cited is not None:
                span = f"{cited['start_line']}-{cited['end_line']}"
                response = await client.get(f"/sources/{cited['section_id']}", params={"l": span})
            else:
                public = state.last["audience"] if state.last else audience
                response = await client.get("/chat", params={"public": public})
        else:
            assert state.last is not None
            last = state.last
            payload = {
                "useful": useful,
                "question": last["question"],
                "audience": last["audience"],
                "answer": last["answer"],
                "sources": [{"n": c["n"], "section_id": c["section_id"]} for c in last["citations"]],
                "reason": None if useful else "information_manquante",
                "comment": FEEDBACK_COMMENT,
            }
            response = await client.post("/api/feedback", json=payload)
            if response.status_code == 201:
                state.shared.feedback_ids.append(int(response.json()["id"]))
        status = str(response.status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return Sample(kind, start, (time.perf_counter() - start) * 1000, status)


async def client_loop(
    base: str, state: ClientState, pool: list[tuple[str, str]], t0: float, warm_until: float, stop_at: float
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(30.0)) as client:
        while time.perf_counter() < stop_at:
            sample = await one_request(client, state, pool)
            state.shared.requests += 1
            if sample.started >= warm_until:
                sample.started -= t0
                state.samples.append(sample)


def summarise(samples: list[Sample], clients: int, elapsed: float, shared: Shared) -> dict[str, Any]:
    ok = {"200", "201"}
    errors = Counter(s.status for s in samples if s.status not in ok)
    by_kind = Counter(s.kind for s in samples)
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(samples),
        "throughput_rps": round(len(samples) / elapsed, 1) if elapsed else 0.0,
        "by_kind": {k: by_kind.get(k, 0) for k in KINDS},
        "errors": sum(errors.values()),
        "errors_by_status": dict(sorted(errors.items())),
        "latency_ms": percentiles([s.latency_ms for s in samples]),
        "latency_ms_by_kind": {k: percentiles([s.latency_ms for s in samples if s.kind == k]) for k in KINDS},
        "distinct_questions": len(shared.answers),
        "inconsistent_answers": len(shared.inconsistent),
        "feedback_ids": sorted(shared.feedback_ids),
    }


async def run_load(
    base: str,
    clients: int,
    duration: float,
    seed: int = 0,
    warmup: float = 0.0,
    pool: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Run `clients` closed-loop clients for `warmup` + `duration` seconds; figures exclude the warm-up.
    Requests are issued until the deadline; those in flight then are awaited and counted."""
    pool = pool or questions()
    shared = Shared()
    states = [ClientState(random.Random(f"{seed}-{i}"), shared) for i in range(clients)]
    t0, cpu0 = time.perf_counter(), time.process_time()
    warm_until, stop_at = t0 + warmup, t0 + warmup + duration
    await asyncio.gather(*(client_loop(base, s, pool, t0, warm_until, stop_at) for s in states))
    elapsed = time.perf_counter() - warm_until
    result = summarise([x for s in states for x in s.samples], clients, elapsed, shared)
    result["requests_with_warmup"] = shared.requests
    result["loadgen_cpu_s"] = round(time.process_time() - cpu0, 2)  # warm-up included
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="server address, e.g. http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds of load before measuring")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="JSON result file (default: stdout)")
    args = parser.parse_args(argv)
    result = asyncio.run(run_load(args.base, args.clients, args.duration, args.seed, args.warmup))
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
