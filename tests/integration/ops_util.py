"""Helpers shared by the ops integration tests (access log, config files, syslog, statsd)."""
import os
import socket
import time

IO_DEADLINE = 10.0


def wait_lines(path, count, deadline=IO_DEADLINE):
    """The file's lines once it has at least `count` of them (lines are written after the
    response went out, so a test polls with a bound instead of sleeping a guessed time)."""
    end = time.monotonic() + deadline
    lines = []
    while time.monotonic() < end:
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
            if len(lines) >= count:
                return lines
        time.sleep(0.02)
    raise AssertionError("%s: wanted %d line(s), got %d: %r" % (path, count, len(lines), lines))


class UdpListener:
    """A loopback UDP socket a test points --statsd-host or --log-syslog-to at."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = []

    def close(self):
        self.sock.close()

    def collect_until(self, predicate, deadline=IO_DEADLINE):
        """Reads datagrams until predicate(self.received) is true; returns them."""
        end = time.monotonic() + deadline
        while not predicate(self.received):
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("datagrams so far: %r" % self.received)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.received.append(data.decode("utf-8", "replace"))
        return self.received


def nginx_conf(directory, http_body, daemon=True):
    """A whole nginx.conf for a test's private nginx: one worker, pid, error log and every
    temp path under `directory` (so it runs unprivileged and leaves nothing behind), running
    as root when the test does (nginx would switch to nobody, who cannot reach tmp dirs), and
    `http_body` inside http { }."""
    lines = ["worker_processes 1;"]
    if os.geteuid() == 0:
        lines.append("user root;")
    if not daemon:
        lines.append("daemon off;")
    lines += ["pid {0}/nginx.pid;".format(directory),
              "error_log {0}/nginx-error.log;".format(directory),
              "events { worker_connections 64; }",
              "http {",
              "    access_log off;"]
    lines += ["    {0}_temp_path {1}/{2};".format(kind, directory, name)
              for kind, name in (("client_body", "body"), ("proxy", "proxy"),
                                 ("fastcgi", "fastcgi"), ("uwsgi", "uwsgi"), ("scgi", "scgi"))]
    lines += [http_body, "}", ""]
    return "\n".join(lines)
