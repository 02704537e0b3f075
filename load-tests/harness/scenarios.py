"""The workloads: which app every server runs, how wrk drives it, and nginx's stand-in."""
from dataclasses import dataclass, field
from pathlib import Path

HARNESS_ROOT = Path(__file__).resolve().parent.parent
APPS_DIR = HARNESS_ROOT / "apps"
WRK_DIR = HARNESS_ROOT / "wrk"

JSON_BODY = '{"message": "Hello, World!", "items": [1, 2, 3]}'


@dataclass(frozen=True)
class Scenario:
    name: str                 # unique run name, e.g. "hello-close"
    group: str                # what --scenarios selects, e.g. "hello"
    app: str                  # WSGI "module:callable" inside APPS_DIR
    lua: Path | None = None   # wrk script (request shape)
    wrk_headers: tuple[str, ...] = ()
    # nginx location body standing in for the app (the HTTP ceiling); None = no fair
    # equivalent (nginx cannot sleep), so nginx is not run for that scenario.
    nginx: str | None = None
    nginx_files: dict = field(default_factory=dict)  # name -> size of files nginx serves
    # One request checked before the measurement, so a server that answers 200 with the
    # wrong body (a truncated stream, an upload read short) is not timed as if it worked.
    check_method: str = "GET"
    check_body_size: int = 0          # bytes of request body
    expect: bytes | None = None       # exact response body, or None
    expect_size: int | None = None    # response body length, or None
    # (workers, threads) for every server instead of --workers/--threads: the design card's
    # own command line, `-w 10 --threads 5`, oversubscribes two cores (issue 12).
    budget: tuple[int, int] | None = None


SCENARIOS = (
    Scenario("hello", "hello", "hello:app", expect=b"Hello, World!",
             nginx='default_type text/plain; return 200 "Hello, World!";'),
    # Connection: close measures accept + parse + close cost per request.
    Scenario("hello-close", "hello", "hello:app", wrk_headers=("Connection: close",),
             expect=b"Hello, World!",
             nginx='default_type text/plain; return 200 "Hello, World!";'),
    Scenario("flask", "flask", "flask_app:app",
             nginx=f"default_type application/json; return 200 '{JSON_BODY}';"),
    Scenario("django", "django", "django_app:app",
             nginx=f"default_type application/json; return 200 '{JSON_BODY}';"),
    Scenario("sleepy", "sleepy", "sleepy:app"),
    # nginx reads and discards the 1 MiB body, then answers: the socket-reading ceiling.
    Scenario("upload", "upload", "upload:app", lua=WRK_DIR / "upload.lua",
             check_method="POST", check_body_size=1024 * 1024, expect=b"1048576\n",
             nginx='default_type text/plain; return 200 "1048576\\n";'),
    # `gthreadd -w 10 --threads 5 app.wsgi`, the usage the project exists for, with the same
    # flags for every peer: ten workers and fifty threads on two cores.
    Scenario("hello-w10t5", "w10t5", "hello:app", expect=b"Hello, World!", budget=(10, 5),
             nginx='default_type text/plain; return 200 "Hello, World!";'),
    Scenario("flask-w10t5", "w10t5", "flask_app:app", budget=(10, 5),
             nginx=f"default_type application/json; return 200 '{JSON_BODY}';"),
    # nginx sends a static 8 MiB file (sendfile): the body-moving ceiling.
    Scenario("stream", "stream", "stream:app", expect_size=8 * 1024 * 1024,
             nginx="default_type application/octet-stream; index stream.bin;",
             nginx_files={"stream.bin": 8 * 1024 * 1024}),
)

GROUPS = tuple(dict.fromkeys(s.group for s in SCENARIOS))


def select(names: list[str] | None) -> list[Scenario]:
    """Scenarios whose group or run name is listed (all when names is empty)."""
    if not names:
        return list(SCENARIOS)
    known = set(GROUPS) | {s.name for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(known))}")
    return [s for s in SCENARIOS if s.name in names or s.group in names]
