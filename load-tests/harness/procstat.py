"""What a server costs, read from /proc: CPU time of a process tree and PSS per process."""
import os
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
