"""Running wrk and reading its --latency report."""
import re
import subprocess
from dataclasses import dataclass

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}  # to milliseconds


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int

    @property
    def errors(self) -> int:
        return self.socket_errors + self.non_2xx


def command(url: str, seconds: int, connections: int, lua=None, headers=(),
            cpu: int | None = None) -> list[str]:
    # One wrk thread: it is pinned to one CPU, so more threads would only contend.
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if lua:
        cmd += ["-s", str(lua)]
    for header in headers:
        cmd += ["-H", header]
    cmd.append(url)
    return (["taskset", "-c", str(cpu)] + cmd) if cpu is not None else cmd


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unexpected wrk time {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse(output: str) -> WrkResult:
    def find(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise ValueError(f"wrk output lacks /{pattern}/:\n{output}")
        return match

    done = find(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)")
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests=int(done[1]),
        seconds=_ms(done[2] + done[3]) / 1e3,
        rps=float(find(r"^Requests/sec:\s+([\d.]+)")[1]),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")[1]),
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)")[1]),
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
    )


def run(cmd: list[str], timeout: float) -> WrkResult:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()[:1]
        raise RuntimeError(f"wrk exited {done.returncode}: {' '.join(said)}")
    return parse(done.stdout)
