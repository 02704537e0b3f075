"""Issue 14's acceptance test: one gunicorn.conf.py written as gunicorn 21-26's docs show it,
using every setting the issue names at once (TLS with client certificates, a Python logging
configuration with a JSON access formatter, a logger_class subclass, reload_engine and a glob
in reload_extra_files, syslog over TCP), serves an app that sends wsgi.early_hints, and each
setting has its observable effect: the served certificate and scheme, the 103 before the
200, the access record with gunicorn's atoms, a reload on a matched template, and the
syslog line."""
import json
import os
import shutil
import socket
import time

import pytest

from conftest import APPS, BOOT_RE, IS_GUNICORN, build_request
from test_ops_telemetry import read_syslog_stream
from tls_util import Pki, TlsServer

pytestmark = [
    pytest.mark.skipif(IS_GUNICORN, reason="gthreadd's own binary (TLS, glob reload_extra_files)"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI"),
]

DEADLINE = 30.0

CONF = """\
# gunicorn.conf.py, as a team running gunicorn 25 writes it
import ssl

from gunicorn.glogging import Logger

workers = 1
threads = 2

# TLS (gunicorn's SSL section)
certfile = {cert!r}
keyfile = {key!r}
ca_certs = {ca!r}
cert_reqs = ssl.CERT_OPTIONAL
ssl_version = "TLSv1_2"
ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20"
suppress_ragged_eofs = True
do_handshake_on_connect = False

# development reloads on a mount without inotify events, templates included (gunicorn 26.1)
reload = True
reload_engine = "poll"
reload_extra_files = [{templates!r}]

# logging: JSON access records through dictConfig, and a logger class tagging every line
accesslog = "-"
logconfig_dict = {{
    "version": 1,
    "root": {{"level": "INFO", "handlers": []}},
    "formatters": {{
        "plain": {{"format": "%(message)s"}},
    }},
    "handlers": {{
        "access_file": {{"class": "logging.FileHandler", "formatter": "plain",
                        "filename": {access!r}}},
    }},
    # gunicorn.error is left as Logger.setup made it (stderr and syslog): dictConfig would
    # replace a configured logger's handlers, the syslog one included, in gunicorn too.
    "loggers": {{
        "gunicorn.access": {{"level": "INFO", "handlers": ["access_file"], "propagate": False}},
    }},
}}
access_log_format = '{{"remote": "%(h)s", "request": "%(r)s", "status": "%(s)s"}}'


class TaggedLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["h"] = "tagged-" + atoms["h"]
        return atoms


logger_class = TaggedLogger

# syslog over TCP
syslog = True
syslog_addr = "tcp://127.0.0.1:{syslog_port}"
syslog_prefix = "shop"
"""


@pytest.fixture
def setup(tmp_path):
    (tmp_path / "pki").mkdir()
    pki = Pki(tmp_path / "pki")
    templates = tmp_path / "templates" / "shop"
    templates.mkdir(parents=True)
    (templates / "cart.html").write_text("one")
    collector = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    collector.bind(("127.0.0.1", 0))
    collector.listen(16)
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(CONF.format(
        cert=pki.server[0], key=pki.server[1], ca=pki.ca[0],
        templates=str(tmp_path / "templates" / "**" / "*.html"),
        access=str(tmp_path / "access.log"), syslog_port=collector.getsockname()[1]))
    # Only the config's settings: no --certfile/--keyfile from the Pki on the command line.
    server = TlsServer("early_hints:app", pki, threads=2, chdir=APPS)
    server.args = ["-c", str(conf)]
    server.start()
    yield server, pki, tmp_path, collector
    server.stop()
    collector.close()


def test_a_gunicorn_25_config_using_every_setting_of_issue_14_runs_unchanged(setup):
    server, pki, tmp_path, collector = setup
    # TLS with an optional client certificate: one is sent and verified.
    context = pki.client_context(cert=pki.client)
    with server.connect(context=context) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        c.send(build_request("GET", "/", [("Connection", "close")]))
        deadline = time.monotonic() + DEADLINE
        while b"preloaded" not in c.buf and time.monotonic() < deadline and c._fill():
            pass
        raw = c.buf
    # wsgi.early_hints: the 103 precedes the response on HTTP/1.1.
    assert raw.startswith(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>"), raw
    assert b"\r\n\r\nHTTP/1.1 200 OK\r\n" in raw, raw
    # The access record went through the logger class and the JSON format to the file.
    deadline = time.monotonic() + DEADLINE
    mine = []
    while time.monotonic() < deadline and not mine:
        if os.path.exists(tmp_path / "access.log"):
            records = [json.loads(line) for line in open(tmp_path / "access.log") if line.strip()]
            mine = [r for r in records if r["request"] == "GET / HTTP/1.1"]
        time.sleep(0.05)
    assert mine == [{"remote": "tagged-127.0.0.1", "request": "GET / HTTP/1.1",
                     "status": "200"}], mine
    # Syslog over TCP got the error log's lines.
    lines = read_syslog_stream(collector, "Booting worker")
    assert any("gunicorn.shop.error: [" in line for line in lines), lines
    # reload_engine = "poll" with a glob in reload_extra_files: a template three levels down
    # reloads the worker, seen by its modification time.
    template = tmp_path / "templates" / "shop" / "cart.html"
    later = os.stat(template).st_mtime + 10
    os.utime(template, (later, later))
    server.wait_for_log(r"Worker reloading: .*cart\.html modified", DEADLINE)
    server.wait_for_log(BOOT_RE, DEADLINE, count=2)
