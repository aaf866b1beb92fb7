"""Load benchmark: start the server the README way (`repere serve --workers N`) on a free loopback port
with its own temp data folder, then run the load generator (`benchmarks.loadgen`) in a second process
at each concurrency level, sampling the server's memory from /proc meanwhile.

Reports per level: requests, throughput, p50/p95/p99 latency (overall and per kind of request), errors
by status, and the server's memory (RSS summed over its process tree, and PSS, which counts pages
shared between the workers once; the max of samples taken every 0.5 s), and how the clients'
connections are split between the server's processes (the busiest process' share, sampled with the
memory: mean, max, and the most uneven split seen). Writes a JSON file under
benchmarks/results/ (git-ignored).

Every client comes from 127.0.0.1, so the server is started with a rate limit high enough for the
benchmark (REPERE_RATE_LIMIT_PER_MINUTE=1000000).

Run: ``python -m benchmarks.load [--clients 16 64] [--duration 60] [--workers 2]``;
quick check: ``python -m benchmarks.load --clients 4 --duration 5 --warmup 1``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from benchmarks.loadgen import FEEDBACK_COMMENT
from repere.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
RATE_LIMIT = "1000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def repere_command() -> list[str]:
    """The installed console script next to this interpreter (the README way), else the module."""
    script = Path(sys.executable).parent / "repere"
    return [str(script)] if script.exists() else [sys.executable, "-m", "repere.cli"]


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(root: int) -> float:
    """User + system CPU time of the process tree of `root` (live processes and their reaped children)."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_mib(root: int) -> tuple[float, float, int]:
    """(RSS sum, PSS sum) in MiB over the process tree of `root`, and the number of processes."""
    rss = pss = 0
    pids = process_tree(root)
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (OSError, ValueError):
            continue  # the process ended meanwhile
    return rss / 1024, pss / 1024, len(pids)


def connections_by_process(root: int, port: int) -> list[int]:
    """Established TCP connections to `port` held by each process of the tree of `root` (busiest first;
    processes holding none are left out): how the kernel's accepted connections are split between workers."""
    established: set[str] = set()
    for table_file in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table_file).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # ESTABLISHED, local port
                established.add(f"socket:[{fields[9]}]")
    counts = []
    for pid in process_tree(root):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        held = 0
        for fd in fds:
            try:
                held += os.readlink(fd) in established
            except OSError:
                continue
        if held:
            counts.append(held)
    return sorted(counts, reverse=True)


class ServerSampler:
    """Samples, every `every` seconds in a thread, memory_mib(root) (keeps the max) and the split of the
    client connections between the server's processes (keeps the busiest process' share per sample,
    from samples that see at least half of the `clients` connected: not the first or last instants)."""

    def __init__(self, root: int, port: int, clients: int, every: float = 0.5) -> None:
        self.root, self.port, self.clients, self.every = root, port, clients, every
        self.max_rss = self.max_pss = 0.0
        self.processes = 0
        self.busiest_shares: list[float] = []
        self.worst_split: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss, count = memory_mib(self.root)
            self.max_rss, self.max_pss = max(self.max_rss, rss), max(self.max_pss, pss)
            self.processes = max(self.processes, count)
            split = connections_by_process(self.root, self.port)
            if split and sum(split) >= self.clients / 2:
                self.busiest_shares.append(split[0] / sum(split))
                if not self.worst_split or self.busiest_shares[-1] > self.worst_split[0] / sum(self.worst_split):
                    self.worst_split = split
            self._stop.wait(self.every)

    def __enter__(self) -> ServerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stop_group(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM the process group led by `process` (started with start_new_session), then SIGKILL it."""
    if process.poll() is not None and not _group_alive(process.pid):
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            process.poll()
            if not _group_alive(process.pid):
                return
            time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("le serveur s'est arrêté :\n" + log.read_text(errors="replace")[-2000:])
        try:
            response = httpx.get(f"{base}/healthz", timeout=2)
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"le serveur ne répond pas après {timeout:.0f} s :\n" + log.read_text(errors="replace")[-2000:])


def run_level(
    base: str, port: int, server_pid: int, clients: int, args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.loadgen", "--base", base, "--clients", str(clients)]
    command += ["--duration", str(args.duration), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    command += ["--out", str(out)]
    limit = args.warmup + args.duration + 60  # in-flight requests time out after 30 s
    cpu_before = cpu_seconds(server_pid)
    with ServerSampler(server_pid, port, clients) as sampler:
        generator = subprocess.Popen(command, start_new_session=True)
        try:
            code = generator.wait(timeout=limit)
        finally:
            stop_group(generator, grace=5)
    server_cpu = cpu_seconds(server_pid) - cpu_before
    if code != 0:
        raise RuntimeError(f"le générateur de charge a échoué (code {code})")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    result["server_rss_mib_max"] = round(sampler.max_rss, 1)
    result["server_pss_mib_max"] = round(sampler.max_pss, 1)
    result["server_processes"] = sampler.processes
    shares = sampler.busiest_shares or [1.0]
    result["busiest_worker_connection_share"] = {"mean": round(sum(shares) / len(shares), 3), "max": max(shares)}
    result["most_uneven_connection_split"] = sampler.worst_split
    result["server_cpu_s"] = round(server_cpu, 2)  # warm-up included, like loadgen_cpu_s
    result["server_cpu_ms_per_request"] = round(1000 * server_cpu / max(1, result["requests_with_warmup"]), 2)
    return result


def table(levels: list[dict[str, Any]]) -> str:
    head = (
        "| clients | requests | req/s | p50 / p95 / p99 ms (all) | p50 / p95 / p99 ms (/api/ask) "
        "| errors | server CPU ms/req | server RSS max (sum) | PSS max | busiest worker's connections mean / max |"
    )
    rows = [head, "|" + "---|" * 10]
    for r in levels:
        a, k = r["latency_ms"], r["latency_ms_by_kind"]["ask"]
        share = r["busiest_worker_connection_share"]
        errors = str(r["errors"]) + (f" {r['errors_by_status']}" if r["errors"] else "")
        rows.append(
            f"| {r['clients']} | {r['requests']} | {r['throughput_rps']} "
            f"| {a['p50']:.1f} / {a['p95']:.1f} / {a['p99']:.1f} | {k['p50']:.1f} / {k['p95']:.1f} / {k['p99']:.1f} "
            f"| {errors} | {r['server_cpu_ms_per_request']:.1f} "
            f"| {r['server_rss_mib_max']:.0f} MiB | {r['server_pss_mib_max']:.0f} MiB "
            f"| {share['mean']:.0%} / {share['max']:.0%} ({'/'.join(map(str, r['most_uneven_connection_split']))}) |"
        )
    return "\n".join(rows)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64], help="concurrency levels")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before each measure")
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: REPERE_WORKERS)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="JSON result file")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # clean up the server on `kill` too

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="repere-load-") as tmp:
        folder = Path(tmp)
        token = secrets.token_urlsafe(24)  # to read the stored feedback back through the trainers' export
        env = dict(
            os.environ,
            REPERE_DATA_DIR=str(folder / "data"),
            REPERE_RATE_LIMIT_PER_MINUTE=RATE_LIMIT,
            REPERE_TRAINER_TOKEN=token,
        )
        command = [*repere_command(), "serve", "--port", str(port)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        log_path = folder / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            health = wait_healthy(base, server, 300, log_path)
            print(f"serveur prêt : {' '.join(command[-4:])}, {health['passages']} passages", flush=True)
            levels = []
            for clients in args.clients:
                print(f"{clients} clients pendant {args.duration:.0f} s (+{args.warmup:.0f} s de chauffe)…", flush=True)
                levels.append(run_level(base, port, server.pid, clients, args, folder / f"level-{clients}.json"))
            stored = stored_feedback(base, token)
        finally:
            stop_group(server)
    workers = args.workers or Settings().workers  # what `repere serve` chose
    sent = sorted(i for level in levels for i in level.pop("feedback_ids"))
    feedback = {
        "accepted": len(sent),  # 201 responses, warm-up included
        "distinct_ids": len(set(sent)),
        "stored": len(stored),
        "same_ids": sent == stored,
    }
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "workers": workers,
        "cpus": os.cpu_count(),
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "seed": args.seed,
        "feedback": feedback,
        "levels": levels,
    }
    print(f"\n{workers} processus serveurs, {os.cpu_count()} cœurs, {args.duration:.0f} s par niveau")
    print(table(levels))
    inconsistent = sum(level["inconsistent_answers"] for level in levels)
    print(
        f"avis acceptés (chauffe comprise) : {feedback['accepted']}, identifiants distincts : "
        f"{feedback['distinct_ids']}, relus sur le serveur : {feedback['stored']}, mêmes identifiants : "
        f"{'oui' if feedback['same_ids'] else 'NON'} ; questions dont la réponse a varié : {inconsistent}"
    )
    out = args.out or RESULTS / f"load-{workers}w-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"résultats : {out}")


def stored_feedback(base: str, token: str) -> list[int]:
    """Ids of the benchmark's feedback entries as the server lists them (trainers' JSONL export)."""
    response = httpx.get(f"{base}/formateurs/avis.jsonl", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    response.raise_for_status()
    entries = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    return sorted(int(e["id"]) for e in entries if e.get("comment") == FEEDBACK_COMMENT)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the server and the generator are already stopped (finally blocks)
        sys.exit("interrompu : serveur arrêté")
