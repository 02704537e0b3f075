#!/usr/bin/python3
"""Runs every scenario against every server, interleaved over rounds, and writes the
results. Normally started by run.sh, which builds gthreadd first; see README.md."""
import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import procstat, report, scenarios, servers, wrk  # noqa: E402
from harness.process import (ServerProcess, check_response, free_port,  # noqa: E402
                             honours_close, port_open)

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent


class StartError(RuntimeError):
    """The server never answered: likely to repeat in every scenario."""


# After this many start failures in a row a server is skipped for the rest of the run,
# so a binary that hangs at start-up costs two ready timeouts, not one per scenario.
MAX_START_FAILURES = 2


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--short", action="store_true", help="1 round of ~3 s runs (quick check)")
    p.add_argument("--scenarios", default="", help="comma list of " + ",".join(scenarios.GROUPS)
                   + " (hello runs keep-alive and Connection: close; hello-close alone works)")
    p.add_argument("--servers", default="", help="comma list of gthreadd,uwsgi,gunicorn,nginx")
    p.add_argument("--rounds", type=int, help="rounds (default 3, 1 with --short)")
    p.add_argument("--duration", type=int, help="seconds per measured run (10, 3 --short)")
    p.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load first")
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--matched-duration", type=int,
                   help="seconds of the second run with workers x threads connections, for "
                        "latency every server measures on all its clients (default: half of "
                        "--duration, at least 2; 0 skips it)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--no-pin", action="store_true", help="do not pin server/wrk to CPUs 0/1")
    p.add_argument("--preload", action="store_true",
                   help="gthreadd and gunicorn load the app before forking (--preload), as "
                        "uWSGI does by default: PSS compared with the same sharing")
    p.add_argument("--ready-timeout", type=float, default=30.0)
    p.add_argument("--gthreadd-bin", type=Path, default=REPO / "build-release" / "gthreadd")
    p.add_argument("--gthreadd-unavailable", default=None, metavar="REASON",
                   help="skip gthreadd, giving this reason (run.sh: the build failed)")
    p.add_argument("--results", type=Path, default=ROOT / "results")
    args = p.parse_args()
    args.rounds = args.rounds or (1 if args.short else 3)
    # wrk takes whole seconds only.
    args.duration = args.duration or (3 if args.short else 10)
    if args.matched_duration is None:
        args.matched_duration = max(2, args.duration // 2)
    if args.duration < 1 or args.warmup < 0 or args.matched_duration < 0:
        p.error("--duration must be at least 1 s, --warmup and --matched-duration at least 0 s")
    return args


PSS_SETTLE_S = 0.5  # after the measured run, before reading PSS (same for every server)


def pinning(disabled: bool) -> tuple[int | None, int | None]:
    """Server on CPU 0, wrk on CPU 1: the two never preempt each other, which makes the
    runs steadier on a 2-core box. Every server gets the same pinning."""
    if disabled or not {0, 1} <= os.sched_getaffinity(0):
        return None, None
    return 0, 1


def log(msg: str) -> None:
    print(msg, flush=True)


def measure(server, scenario, args, rnd, cpus, logdir) -> report.Measurement:
    """One start → ready → warm-up → measured wrk → PSS → stop cycle.
    Raises RuntimeError with a user-facing reason when the server cannot be measured."""
    server_cpu, wrk_cpu = cpus
    budget = servers.budget_for(scenario, args.workers, args.threads, args.preload)
    port = free_port()
    if port_open(port):
        raise RuntimeError(f"port {port} already answers; refusing to measure someone else")
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory(prefix=f"gthreadd-load-{server.name}-") as tmp:
        argv = server.command(scenario, port, budget, Path(tmp))
        logfile = logdir / f"r{rnd}-{scenario.name}-{server.name}.log"
        with ServerProcess(argv, logfile, server_cpu) as proc:
            why = proc.wait_ready(port, "/", args.ready_timeout)
            if why:
                tail = proc.log_tail()
                raise StartError(f"{server.name} {why}" + (f"; log {logfile}:\n{tail}"
                                                             if tail else ""))
            wrong = check_response(port, scenario)
            if wrong:
                raise RuntimeError(f"{server.name} answers wrongly: {wrong}")
            if "Connection: close" in scenario.wrk_headers and not honours_close(port):
                raise RuntimeError(f"{server.name} ignores `Connection: close`: wrk would "
                                   "measure keep-alive")
            run = lambda secs, conns=args.connections: wrk.run(  # noqa: E731
                wrk.command(url, secs, conns, scenario.lua, scenario.wrk_headers,
                            wrk_cpu), timeout=secs + 60)
            if args.warmup > 0:
                run(args.warmup)
            workers_before = set(proc.workers())
            before = procstat.cpu_seconds(proc.tree())
            with procstat.AcceptQueueSampler(port) as queue:
                result = run(args.duration)
            after = procstat.cpu_seconds(proc.tree())
            workers = proc.workers()
            # A worker that died mid-run took its CPU time with it: the count says so.
            deaths = len(workers_before - set(workers))
            # At rest, not mid-cleanup: a server that hands memory back once a burst is over
            # (gthreadd trims on its next 200 ms tick) is measured after it did.
            time.sleep(PSS_SETTLE_S)
            pss = [k for k in (procstat.pss_kib(pid) for pid in workers) if k is not None]
            matched = (run(args.matched_duration, budget.workers * budget.threads)
                       if args.matched_duration else None)
            if proc.proc.poll() is not None:
                raise RuntimeError(f"{server.name} died during the run; log {logfile}")
    cpu = procstat.cpu_delta(before, after)
    return report.Measurement(
        round=rnd, scenario=scenario.name, server=server.name, rps=result.rps,
        p50_ms=result.p50_ms, p99_ms=result.p99_ms, requests=result.requests,
        errors=result.errors, cpu_s=cpu,
        cpu_s_per_10k=cpu / result.requests * 1e4 if result.requests else 0.0,
        pss_worker_mib=(sum(pss) / len(pss) / 1024) if pss else 0.0, workers=len(pss),
        worker_deaths=deaths, unaccepted=queue.median(),
        p50_matched_ms=matched.p50_ms if matched else None,
        p99_matched_ms=matched.p99_ms if matched else None)


def mode(args) -> str:
    if args.short:
        return "short"
    return "full" if (args.rounds, args.duration) == (3, 10) else "custom"


def header(args, cpus, started: datetime.datetime, load: str) -> str:
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = "?"
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    pin = "server on CPU 0, wrk on CPU 1" if cpus[0] is not None else "not pinned"
    return (f"Load test {started:%Y-%m-%d %H:%M} UTC, commit {commit}, "
            f"{mode(args)} mode: {args.rounds} round(s) × "
            f"{args.duration:g} s per run (after {args.warmup:g} s warm-up), wrk -t1 "
            f"-c{args.connections}, `-w {args.workers} --threads {args.threads}` for every "
            f"server"
            + (", `--preload` for gthreadd and gunicorn (uWSGI loads the app before forking by "
               "default)" if args.preload else "")
            + f", {pin}; {os.cpu_count()} × {model}, Linux {platform.release()}, {load}. "
            f"Medians over rounds.")


def _interrupt(*_):
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupt)  # stop servers cleanly when killed too
    try:
        chosen = scenarios.select([s for s in args.scenarios.split(",") if s])
    except ValueError as err:
        log(f"error: {err}")
        return 2
    every = servers.all_servers(args.gthreadd_bin, args.gthreadd_unavailable)
    wanted = [s for s in args.servers.split(",") if s]
    unknown = set(wanted) - {s.name for s in every}
    if unknown:
        log(f"error: unknown server(s) {', '.join(sorted(unknown))}")
        return 2
    every = [s for s in every if not wanted or s.name in wanted]
    if not servers.wrk_available():
        log("error: wrk is not installed (apt-get install wrk)")
        return 2

    skipped: dict[tuple[str, str], str] = {}
    active = []
    for server in every:
        why = server.unavailable()
        if why:
            log(f"SKIP {server.name}: {why}")
            skipped.update({(sc.name, server.name): why for sc in chosen})
        else:
            active.append(server)
    for server in active:
        for sc in chosen:
            if not server.supports(sc):
                skipped[(sc.name, server.name)] = "no equivalent of this app"

    args.results.mkdir(parents=True, exist_ok=True)
    logdir = args.results / "logs"
    logdir.mkdir(exist_ok=True)
    cpus = pinning(args.no_pin)
    started = datetime.datetime.now(datetime.timezone.utc)
    load = "load average before the run %.1f %.1f %.1f" % os.getloadavg()
    measurements: list[report.Measurement] = []
    start_failures = {s.name: 0 for s in active}
    try:
        for rnd in range(1, args.rounds + 1):
            for sc in chosen:
                # Rotate the order each round so no server always runs first (cold caches)
                # or last (after the box has warmed up).
                shift = (rnd - 1) % max(len(active), 1)
                for server in active[shift:] + active[:shift]:
                    if (sc.name, server.name) in skipped:
                        continue
                    if start_failures[server.name] >= MAX_START_FAILURES:
                        skipped[(sc.name, server.name)] = (
                            f"did not start in {MAX_START_FAILURES} scenarios in a row")
                        continue
                    t0 = time.monotonic()
                    try:
                        m = measure(server, sc, args, rnd, cpus, logdir)
                    except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as err:
                        if isinstance(err, StartError):
                            start_failures[server.name] += 1
                            if start_failures[server.name] == MAX_START_FAILURES:
                                log(f"SKIP {server.name} from now on: it did not start in "
                                    f"{MAX_START_FAILURES} scenarios in a row")
                        # Not fatal: the others still get measured; the table says why.
                        reason = str(err).splitlines()[0]
                        log(f"SKIP {server.name} in {sc.name} from round {rnd}: {err}")
                        skipped[(sc.name, server.name)] = reason
                        continue
                    start_failures[server.name] = 0
                    measurements.append(m)
                    log(f"round {rnd} {sc.name:<12} {server.name:<9} {m.rps:>10.1f} req/s  "
                        f"p50 {m.p50_ms:7.2f} ms  p99 {m.p99_ms:7.2f} ms  "
                        + (f"p99 c{args.workers * args.threads} {m.p99_matched_ms:7.2f} ms  "
                           if m.p99_matched_ms is not None else "") +
                        f"cpu {m.cpu_s_per_10k:6.2f} s/10k  pss {m.pss_worker_mib:6.1f} MiB"
                        f"  errors {m.errors}  ({time.monotonic() - t0:.0f} s)"
                        + (f"  WARNING {m.worker_deaths} worker deaths" if m.worker_deaths
                           else ""))
    except KeyboardInterrupt:
        log("interrupted: writing what was measured")

    # A server that failed in a later round still has earlier numbers: keep them.
    for key in [k for k in skipped if any((m.scenario, m.server) == k for m in measurements)]:
        skipped[key] = f"some rounds failed: {skipped[key]}"
    rows = report.summarize(measurements, skipped)
    out = args.results
    report.write_raw_csv(out / "latest-runs.csv", measurements)
    report.write_csv(out / "latest.csv", rows)
    table = report.markdown(rows, header(args, cpus, started, load),
                            sleepy_ceiling=args.workers * args.threads / 0.020,
                            matched=(args.workers * args.threads if args.matched_duration
                                     else None))
    (out / "latest.md").write_text(table)
    why = report.chart(out / "latest.png", rows,
                       f"gthreadd and peers, median req/s ({mode(args)} mode)")
    if why:
        log(f"no chart: {why}")
    if out.resolve() == (ROOT / "results").resolve():
        report.update_readme(ROOT / "README.md", table, None if why else "latest.png")
    log("\n" + table)
    log(f"wrote {out}/latest.csv, latest-runs.csv, latest.md" + ("" if why else ", latest.png"))
    return 0 if measurements else 1


if __name__ == "__main__":
    sys.exit(main())
