"""End to end with real components: Django 3.2 (ORM on SQLite, CSRF form, 5 MiB upload)
served by gthreadd over a unix socket behind Debian's nginx, static files by nginx; a Flask
app configured by an INI file with a custom access log format."""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import APPS, IS_GUNICORN, Server
from ops_util import nginx_conf, wait_lines

OPS = os.path.join(APPS, "ops")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NGINX_SITE = """
    client_max_body_size 20m;
    upstream app {{ server unix:{sock}; }}
    server {{
        listen 127.0.0.1:{port};
        location /static/ {{ alias {static}/; }}
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
"""


@pytest.fixture(scope="module")
def django_behind_nginx(tmp_path_factory):
    if NGINX is None:
        pytest.skip("Debian's nginx is not installed (apt-get install nginx)")
    tmp = tmp_path_factory.mktemp("deploy")
    os.chmod(str(tmp), 0o755)
    server = Server("djsite.wsgi:application", args=["--chdir", OPS], workers=2, threads=4,
                    unix_dir=str(tmp), env={"DJSITE_DB": str(tmp / "db.sqlite3")}, chdir=None)
    server.start()
    port = free_port()
    conf = tmp / "nginx.conf"
    site = NGINX_SITE.format(sock=server.unix_path, port=port,
                             static=os.path.join(OPS, "djsite", "static"))
    conf.write_text(nginx_conf(tmp, site, daemon=False))
    nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if nginx.poll() is not None or time.monotonic() > deadline:
                server.stop()
                pytest.fail("nginx did not start: %s" % nginx.stderr.read().decode())
            time.sleep(0.05)
    yield port
    nginx.send_signal(signal.SIGQUIT)
    try:
        nginx.wait(10)
    except subprocess.TimeoutExpired:
        nginx.kill()
    server.stop()


def fetch(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    result = (r.status, dict((k.lower(), v) for k, v in r.getheaders()), data)
    conn.close()
    return result


def test_get_and_csrf_protected_form_post_through_nginx(django_behind_nginx):
    port = django_behind_nginx
    status, headers, body = fetch(port, "GET", "/form/")
    assert status == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    cookie = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "csrftoken=" + cookie,
            # Django checks Referer on https requests (is_secure() is true behind this nginx)
            "Referer": "https://127.0.0.1:%d/form/" % port}
    status, _, body = fetch(port, "POST", "/notes/", "text=hello+nginx&csrfmiddlewaretoken=" + token, form)
    assert status == 200, body
    assert "hello nginx" in json.loads(body)["texts"]
    # Without the token: Django's CSRF middleware refuses.
    status, _, _ = fetch(port, "POST", "/notes/", "text=forged", form)
    assert status == 403
    _, _, body = fetch(port, "GET", "/notes/")
    assert "forged" not in json.loads(body)["texts"]


def test_five_mib_upload_through_nginx(django_behind_nginx):
    data = os.urandom(5 * 1024 * 1024)
    boundary = "gthreadd-boundary"
    body = (("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob.bin\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n" % boundary).encode() + data +
            ("\r\n--%s--\r\n" % boundary).encode())
    status, _, reply = fetch(django_behind_nginx, "POST", "/upload/", body,
                             {"Content-Type": "multipart/form-data; boundary=" + boundary})
    assert status == 200, reply[:500]
    assert json.loads(reply) == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_static_files_are_served_by_nginx(django_behind_nginx):
    status, headers, body = fetch(django_behind_nginx, "GET", "/static/hello.txt")
    assert status == 200 and body == b"static file served by nginx\n"
    assert "nginx" in headers.get("server", "")


def test_is_secure_from_the_proxy_on_the_unix_socket(django_behind_nginx):
    status, _, body = fetch(django_behind_nginx, "GET", "/secure/")
    assert status == 200
    assert json.loads(body) == {"is_secure": True, "scheme": "https"}


def test_forwarded_proto_ignored_from_a_peer_not_allowed(make_server, tmp_path):
    env = {"DJSITE_DB": str(tmp_path / "db.sqlite3")}
    trusted = make_server("djsite.wsgi:application", chdir=OPS, env=env,
                          args=["--forwarded-allow-ips", "127.0.0.1"])
    r = trusted.request("GET", "/secure/", [("X-Forwarded-Proto", "https")])
    assert r.json() == {"is_secure": True, "scheme": "https"}
    untrusted = make_server("djsite.wsgi:application", chdir=OPS, env=env,
                            args=["--forwarded-allow-ips", "10.1.2.3"])
    r = untrusted.request("GET", "/secure/", [("X-Forwarded-Proto", "https")])
    assert r.json() == {"is_secure": False, "scheme": "http"}


@pytest.mark.skipif(IS_GUNICORN, reason="gunicorn 20.1 reads no INI files")
def test_flask_configured_by_ini_with_custom_access_log(make_server, tmp_path):
    access = tmp_path / "access.log"
    ini = tmp_path / "site.ini"
    ini.write_text("[gthreadd]\n"
                   "# what an operator's file looks like\n"
                   "accesslog = %s\n"
                   "access_log_format = FLASK %%(m)s %%(U)s %%(q)s %%(s)s %%({x-app}o)s %%(b)s\n"
                   "keepalive = 5\n" % access)
    server = make_server("ops.flask_ini_app:app", args=["-c", str(ini)])
    r = server.get("/items/7?q=x")
    assert r.status == 200 and r.json() == {"id": 7, "q": "x"}
    r = server.get("/missing")
    assert r.status == 404
    lines = [l for l in wait_lines(str(access), 3) if "__ready__" not in l]
    assert re.fullmatch(r"FLASK GET /items/7 q=x 200 flask \d+", lines[0]), lines
    assert re.fullmatch(r"FLASK GET /missing  404 - \d+", lines[1]), lines
