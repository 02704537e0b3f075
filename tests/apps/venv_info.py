"""Reports what the app's interpreter is: sys.executable, prefixes, version, whether flask
imports, and what a subprocess of sys.executable sees as its prefix (a venv's python must
run in the venv)."""
import importlib.util
import json
import subprocess
import sys


def app(environ, start_response):
    info = {
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "version": "%d.%d" % sys.version_info[:2],
        "flask": importlib.util.find_spec("flask") is not None,
    }
    if environ["PATH_INFO"] == "/subprocess":
        info["child_prefix"] = subprocess.run(
            [sys.executable, "-c", "import sys; print(sys.prefix)"],
            capture_output=True, text=True, timeout=30).stdout.strip()
    body = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
