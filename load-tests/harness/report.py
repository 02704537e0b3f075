"""Medians over rounds, gthreadd/peer ratios, and the CSV, Markdown and PNG outputs."""
import csv
import shutil
import statistics
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from .scenarios import SCENARIOS

SERVER_ORDER = ("gthreadd", "uwsgi", "gunicorn", "nginx")
PEERS = ("uwsgi", "gunicorn", "nginx")


@dataclass
class Measurement:
    round: int
    scenario: str
    server: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_s: float
    cpu_s_per_10k: float
    pss_worker_mib: float
    workers: int
    worker_deaths: int = 0  # workers that died during the measured run (crash, timeout)
    # wrk connections left in the kernel's accept queue (median of samples during the run):
    # clients the server never served, so its latency percentiles leave them out.
    unaccepted: float = 0.0
    # A second, shorter run with as many connections as the budget has threads
    # (workers x threads): every server can serve every client at once, so no latency is
    # flattered by clients left unaccepted (uWSGI serves one connection per thread).
    p50_matched_ms: float | None = None
    p99_matched_ms: float | None = None


@dataclass
class Summary:
    scenario: str
    server: str
    runs: int
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_s_per_10k: float | None = None
    pss_worker_mib: float | None = None
    errors: int = 0
    worker_deaths: int = 0
    unaccepted: float | None = None
    p50_matched_ms: float | None = None
    p99_matched_ms: float | None = None
    note: str = ""  # why there is no number


def summarize(measurements: list[Measurement], skipped: dict) -> list[Summary]:
    """One row per (scenario, server) that was planned: medians of its runs, or the
    reason it has none (skipped maps (scenario, server) -> reason)."""
    rows = []
    keys = dict.fromkeys([(m.scenario, m.server) for m in measurements] + list(skipped))
    for scenario, server in keys:
        runs = [m for m in measurements if (m.scenario, m.server) == (scenario, server)]
        row = Summary(scenario, server, len(runs), note=skipped.get((scenario, server), ""))
        if runs:
            med = lambda attr: statistics.median(getattr(m, attr) for m in runs)  # noqa: E731
            row.rps, row.p50_ms, row.p99_ms = med("rps"), med("p50_ms"), med("p99_ms")
            row.cpu_s_per_10k, row.pss_worker_mib = med("cpu_s_per_10k"), med("pss_worker_mib")
            row.errors = sum(m.errors for m in runs)
            row.worker_deaths = sum(m.worker_deaths for m in runs)
            row.unaccepted = med("unaccepted")
            matched = [m for m in runs if m.p99_matched_ms is not None]
            if matched:
                row.p50_matched_ms = statistics.median(m.p50_matched_ms for m in matched)
                row.p99_matched_ms = statistics.median(m.p99_matched_ms for m in matched)
        rows.append(row)
    order = {s.name: i for i, s in enumerate(SCENARIOS)}
    rows.sort(key=lambda r: (order.get(r.scenario, 99), SERVER_ORDER.index(r.server)))
    return rows


def ratio(rows: list[Summary], scenario: str, peer: str, attr: str = "rps") -> float | None:
    values = {r.server: getattr(r, attr) for r in rows if r.scenario == scenario}
    ours, theirs = values.get("gthreadd"), values.get(peer)
    return ours / theirs if ours and theirs else None


def write_raw_csv(path: Path, measurements: list[Measurement]) -> None:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(list(Measurement.__dataclass_fields__))
        for m in measurements:
            writer.writerow(_fmt(v) for v in asdict(m).values())


def write_csv(path: Path, rows: list[Summary]) -> None:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(list(Summary.__dataclass_fields__) + ["gthreadd_over_server_rps"])
        for r in rows:
            writer.writerow([_fmt(v) for v in asdict(r).values()]
                            + [_fmt(ratio(rows, r.scenario, r.server))])


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _cell(value, digits=3) -> str:
    return _fmt(value, digits) if value is not None else "–"


def markdown(rows: list[Summary], header: str, sleepy_ceiling: float | None = None,
             matched: int | None = None) -> str:
    m = f"c{matched}" if matched else "matched"
    lines = [header, "",
             "| scenario | server | req/s | p50 ms | p99 ms | CPU s / 10k req | PSS / worker MiB "
             f"| errors | conns not accepted | p50 ms {m} | p99 ms {m} | gthreadd / server req/s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r.runs == 0:
            lines.append(f"| {r.scenario} | {r.server} | skipped: {r.note} | | | | | | | | | |")
            continue
        own = r.server == "gthreadd"
        errors = str(r.errors) + (f" ⚠ {r.worker_deaths} worker deaths" if r.worker_deaths else "")
        lines.append(
            f"| {r.scenario} | {r.server} | {_cell(r.rps, 4)} | {_cell(r.p50_ms)} "
            f"| {_cell(r.p99_ms)} | {_cell(r.cpu_s_per_10k)} | {_cell(r.pss_worker_mib)} "
            f"| {errors} | {_cell(r.unaccepted, 2)} "
            f"| {_cell(r.p50_matched_ms)} | {_cell(r.p99_matched_ms)} "
            f"| {'' if own else _cell(ratio(rows, r.scenario, r.server))} |")
    scenarios = list(dict.fromkeys(r.scenario for r in rows))
    lines += ["", "Ratios gthreadd / peer (medians of the same run; req/s higher is better, "
              "p99 and PSS lower is better):", "",
              "| scenario | req/s ÷ uWSGI | req/s ÷ gunicorn | req/s ÷ nginx "
              f"| p99 ÷ uWSGI | p99 {m} ÷ uWSGI | PSS ÷ uWSGI |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for s in scenarios:
        cells = [_cell(ratio(rows, s, peer)) for peer in PEERS]
        cells += [_cell(ratio(rows, s, "uwsgi", "p99_ms")),
                  _cell(ratio(rows, s, "uwsgi", "p99_matched_ms")),
                  _cell(ratio(rows, s, "uwsgi", "pss_worker_mib"))]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    starved = sorted({f"{r.server} ({r.scenario})" for r in rows
                      if r.unaccepted and r.unaccepted >= 1})
    if starved:
        lines += ["", "conns not accepted: the median number of wrk's connections waiting in "
                  "the kernel's accept queue during the run, i.e. clients that got no answer at "
                  "all. Latency percentiles count only answered requests, so they flatter a "
                  "server that leaves clients waiting: " + ", ".join(starved) + "."]
    if any(r.p99_matched_ms is not None for r in rows):
        lines += ["", f"{m}: a second run per server with as many connections as there are "
                  "threads in all (workers × threads), so that every server serves every "
                  "client at once: the latency comparison that leaves nobody out."]
    if sleepy_ceiling:
        # Issue 4: an I/O-bound app should keep every thread busy: workers x threads / 20 ms.
        got = {r.server: r.rps for r in rows if r.scenario == "sleepy" and r.rps}
        if got:
            shares = ", ".join(f"{v} {got[v] / sleepy_ceiling:.0%}" for v in SERVER_ORDER
                               if v in got)
            lines += ["", f"sleepy, share of the {sleepy_ceiling:.0f} req/s ceiling "
                      f"(workers × threads / 20 ms): {shares}."]
    return "\n".join(lines) + "\n"


def chart(path: Path, rows: list[Summary], title: str) -> str | None:
    """Grouped bars of median req/s (log scale: hello and stream differ by 1000x).
    gnuplot first, matplotlib if that is what is installed; returns why not drawn."""
    scenarios = list(dict.fromkeys(r.scenario for r in rows))
    servers = [s for s in SERVER_ORDER if any(r.server == s and r.rps for r in rows)]
    if not servers:
        return "no measurements to plot"
    table = {(r.scenario, r.server): r.rps for r in rows}
    if shutil.which("gnuplot"):
        return _gnuplot(path, scenarios, servers, table, title)
    try:
        import matplotlib  # noqa: F401 (Debian's python3-matplotlib, if installed)
    except ImportError:
        return "neither gnuplot nor python3-matplotlib is installed"
    return _matplotlib(path, scenarios, servers, table, title)


def _gnuplot(path, scenarios, servers, table, title) -> str | None:
    data = path.with_suffix(".dat")
    with open(data, "w") as out:
        for s in scenarios:
            out.write(s + " " + " ".join(
                f"{table[(s, v)]:.1f}" if table.get((s, v)) else "-" for v in servers) + "\n")
    plots = ", ".join(f"'{data}' using {i + 2}:xtic(1) title '{v}'"
                      for i, v in enumerate(servers))
    script = f"""
set terminal pngcairo size 1100,560 noenhanced font 'sans,10'
set output '{path}'
set title '{title}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set datafile missing '-'
set logscale y
set ylabel 'requests/s (median, log scale)'
set grid ytics
set key top right
set yrange [1:*]
set xrange [-0.6:{len(scenarios) - 0.4}]
plot {plots}
"""
    done = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True,
                          check=False)
    data.unlink(missing_ok=True)
    return None if done.returncode == 0 else f"gnuplot failed: {done.stderr.strip()}"


def _matplotlib(path, scenarios, servers, table, title) -> str | None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(11, 5.6))
    width = 0.8 / len(servers)
    for i, v in enumerate(servers):
        xs = [j + i * width for j in range(len(scenarios))]
        ax.bar(xs, [table.get((s, v)) or 0 for s in scenarios], width, label=v)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(scenarios))], scenarios)
    ax.set_yscale("log")
    ax.set_ylabel("requests/s (median, log scale)")
    ax.set_title(title)
    ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None


BEGIN, END = "<!-- latest:begin", "<!-- latest:end -->"


def update_readme(readme: Path, table: str, chart_name: str | None) -> bool:
    """Replace the part of the README between the latest markers with this run's table."""
    text = readme.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return False
    begin_line = text[start:text.index("\n", start) + 1]
    image = f"\n![median req/s](results/{chart_name})\n" if chart_name else ""
    readme.write_text(text[:start] + begin_line + table + image + text[end:])
    return True
