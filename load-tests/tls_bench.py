#!/usr/bin/python3
"""TLS scenario (issue 14): gthreadd, gunicorn -k gthread and nginx, each terminating TLS
with the same certificate (RSA 2048, made with the openssl CLI for the run), hello over
keep-alive and with `Connection: close` (one full handshake per request: the handshake
rate). nginx answers the fixed body itself, the TLS ceiling of this machine, as in bench.py.

    load-tests/tls_bench.py [--short] [--gthreadd-bin build-release/gthreadd]

Same budget and pinning as bench.py (-w 2 --threads 4, server on CPU 0, wrk on CPU 1). Uses
the harness's process control and wrk parsing; prints a table and the ratios."""
import argparse
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import wrk  # noqa: E402
from harness.process import ServerProcess, free_port  # noqa: E402
from harness.scenarios import SCENARIOS as PLAIN_SCENARIOS  # noqa: E402
from harness.servers import Budget, Gthreadd, Gunicorn, Nginx, Tls  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# bench.py's hello and hello-close (same app, nginx location and wrk headers), over TLS.
SCENARIOS = {"tls-" + s.name: s for s in PLAIN_SCENARIOS if s.name in ("hello", "hello-close")}


def make_cert(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True)
    return cert, key


def tls_servers(tls: Tls, gthreadd_bin) -> dict:
    """The harness's servers (their command lines and nginx.conf), terminating TLS."""
    return {"gthreadd": Gthreadd(Path(gthreadd_bin), tls=tls), "gunicorn": Gunicorn(tls=tls),
            "nginx": Nginx(tls=tls)}


def wait_ready(proc, port, timeout=30.0):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            return f"exited with {proc.proc.returncode}"
        try:
            import http.client
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=ctx)
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status == 200 and body == b"Hello, World!":
                proc.tree()
                return None
        except OSError:
            pass
        time.sleep(0.1)
    return "not ready"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--short", action="store_true", help="1 round x 3 s (default 3 x 10 s)")
    p.add_argument("--gthreadd-bin", default=str(REPO / "build-release" / "gthreadd"))
    p.add_argument("--servers", default="gthreadd,gunicorn,nginx")
    args = p.parse_args()
    rounds, secs = (1, 3) if args.short else (3, 10)
    names = args.servers.split(",")
    unknown = sorted(set(names) - {"gthreadd", "gunicorn", "nginx"})
    if unknown:
        p.error(f"--servers: unknown {','.join(unknown)} (gthreadd, gunicorn, nginx)")
    results: dict[tuple[str, str], list[float]] = {}
    logdir = Path(__file__).resolve().parent / "results"
    logdir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gthreadd-tls-bench-") as tmp:
        servers = tls_servers(Tls(*make_cert(Path(tmp))), args.gthreadd_bin)
        for rnd in range(rounds):
            for scenario, plain in SCENARIOS.items():
                for name in names[rnd % len(names):] + names[:rnd % len(names)]:
                    port = free_port()
                    rundir = Path(tempfile.mkdtemp(dir=tmp))
                    # -w 2 --threads 4, as bench.py's default budget.
                    argv = servers[name].command(plain, port, Budget(), rundir)
                    log = logdir / f"tls-r{rnd}-{scenario}-{name}.log"
                    with ServerProcess(argv, log, 0) as proc:
                        why = wait_ready(proc, port)
                        if why:
                            print(f"{name}: {why}; see {log}", file=sys.stderr)
                            continue
                        url = f"https://127.0.0.1:{port}/"
                        headers = plain.wrk_headers
                        wrk.run(wrk.command(url, 1, 50, None, headers, 1), timeout=60)
                        r = wrk.run(wrk.command(url, secs, 50, None, headers, 1),
                                    timeout=secs + 60)
                    results.setdefault((scenario, name), []).append(r.rps)
                    print(f"round {rnd} {scenario:16} {name:9} {r.rps:10.0f} req/s "
                          f"p99 {r.p99_ms:.2f} ms errors {r.errors}", flush=True)
    print("\n| scenario | " + " | ".join(names) + " | gthreadd/gunicorn | gthreadd/nginx |")
    print("|---" * (len(names) + 3) + "|")
    for scenario in SCENARIOS:
        med = {n: statistics.median(results[(scenario, n)]) for n in names
               if (scenario, n) in results}
        cells = [f"{med[n]:.0f}" if n in med else "-" for n in names]
        ratio = lambda peer: (f"{med['gthreadd'] / med[peer]:.2f}x"  # noqa: E731
                              if "gthreadd" in med and peer in med else "-")
        print(f"| {scenario} | " + " | ".join(cells) + f" | {ratio('gunicorn')} | "
              f"{ratio('nginx')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
