"""What a server costs, read from /proc: CPU time of a process tree and PSS per process."""
import os
import statistics
import threading
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may contain spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone between listing and reading
        return None
    return text[text.rindex(")") + 2:].split()


def children_map() -> dict[int, list[int]]:
    """ppid -> pids for every process visible now."""
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields:  # fields[1] is field 4 of proc(5): ppid
            kids.setdefault(int(fields[1]), []).append(int(entry.name))
    return kids


def descendants(pid: int) -> list[int]:
    """Every process below pid (workers, and anything they forked)."""
    kids = children_map()
    found, todo = [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """utime + stime (all threads) per live pid, in seconds."""
    out = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:  # fields[11], fields[12] are utime and stime (proc(5) fields 14, 15)
            out[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two samples; a process born in between counts from zero."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def pss_kib(pid: int) -> int | None:
    """Proportional set size: shared pages (the interpreter, copy-on-write after fork)
    are split between the processes sharing them, so per-worker figures add up."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def accept_queue(port: int) -> int | None:
    """Connections completed by the kernel but not yet accepted by the server listening on
    127.0.0.1:`port` (the LISTEN socket's rx_queue in /proc/net/tcp), or None if none.
    A server that leaves wrk's connections here serves fewer clients than wrk opened, and
    wrk's latency percentiles then describe only the lucky ones."""
    wanted = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 4 and fields[1] == wanted and fields[3] == "0A":
            return int(fields[4].split(":")[1], 16)
    return None


class AcceptQueueSampler:
    """Samples accept_queue(port) every `interval` seconds on a thread while in a `with`."""

    def __init__(self, port: int, interval: float = 0.25):
        self.port, self.interval = port, interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            value = accept_queue(self.port)
            if value is not None:
                self.samples.append(value)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def median(self) -> float:
        return float(statistics.median(self.samples)) if self.samples else 0.0
