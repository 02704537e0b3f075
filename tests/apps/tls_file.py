"""Serves the file named by $GTHREADD_TEST_TLS_FILE through wsgi.file_wrapper (sendfile over
a plain socket; over TLS, SSL_sendfile with kTLS or bounded read + SSL_write)."""
import os

PATH = os.environ.get("GTHREADD_TEST_TLS_FILE", "")


def app(environ, start_response):
    f = open(PATH, "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(os.path.getsize(PATH)))])
    return environ["wsgi.file_wrapper"](f, 65536)


application = app
