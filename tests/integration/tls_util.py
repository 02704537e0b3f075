"""TLS helpers for the integration tests: certificates made with the openssl CLI at test
time (a CA, server and client certificates, a second CA), a Server whose clients speak TLS,
and a client over a raw socket (ssl.MemoryBIO) for what ssl.SSLSocket hides: stalling
mid-handshake, closing without close_notify, seeing the server's close_notify."""
import os
import re
import socket
import ssl
import subprocess
import time

from conftest import IO_TIMEOUT, LISTEN_RE, START_DEADLINE, BOOT_RE, Conn, Server


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(directory, name):
    """A self-signed CA: (cert path, key path)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "3",
             "-subj", "/CN=" + name, cwd=directory)
    return os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")


def make_leaf(directory, name, ca, usage="serverAuth"):
    """A certificate for 127.0.0.1/localhost (usage serverAuth or clientAuth) signed by `ca`:
    (cert path, key path)."""
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=%s\n" % usage)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name,
             cwd=directory)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca[0], "-CAkey", ca[1],
             "-CAcreateserial", "-out", name + ".pem", "-days", "3", "-extfile", ext,
             cwd=directory)
    return os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")


class Pki:
    """A CA with a server and a client certificate, and a second CA that signed neither."""

    def __init__(self, directory):
        self.dir = str(directory)
        self.ca = make_ca(self.dir, "ca")
        self.server = make_leaf(self.dir, "server", self.ca)
        self.client = make_leaf(self.dir, "client", self.ca, "clientAuth")
        self.other_ca = make_ca(self.dir, "other-ca")

    def args(self):
        return ["--certfile", self.server[0], "--keyfile", self.server[1]]

    def client_context(self, cafile=None, cert=None):
        ctx = ssl.create_default_context(cafile=cafile or self.ca[0])
        if cert:
            ctx.load_cert_chain(*cert)
        return ctx


class TlsConn(Conn):
    """conftest's Conn over TLS."""

    def __init__(self, address, context, family=socket.AF_INET, timeout=IO_TIMEOUT):
        super().__init__(address, family, timeout)
        self.sock = context.wrap_socket(self.sock, server_hostname="127.0.0.1")


class TlsServer(Server):
    """A Server started with TLS settings; connect() speaks TLS with `context`."""

    def __init__(self, app, pki, args=(), context=None, **kwargs):
        super().__init__(app, list(pki.args()) + list(args), **kwargs)
        self.pki = pki
        self.context = context or pki.client_context()

    def start(self):
        self.spawn()
        m = self.wait_for_log(LISTEN_RE, START_DEADLINE)
        self.master_pid = int(m.group(2))
        if not self.unix_path:
            pm = re.match(r"https://127\.0\.0\.1:(\d+)$", m.group(1))
            assert pm, "unexpected listen address %r\n%s" % (m.group(1), self.log)
            self.port = int(pm.group(1))
        self.wait_for_log(BOOT_RE, START_DEADLINE, count=self.workers)
        self._wait_serving()
        return self

    def connect(self, timeout=IO_TIMEOUT, context=None):
        ctx = context or self.context
        if self.unix_path:
            return TlsConn(self.unix_path, ctx, socket.AF_UNIX, timeout)
        return TlsConn(("127.0.0.1", self.port), ctx, socket.AF_INET, timeout)


class RawTlsClient:
    """TLS driven by hand over a plain socket (ssl.MemoryBIO): every byte on the wire is
    this test's choice."""

    def __init__(self, port, context, timeout=IO_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="127.0.0.1")

    def client_hello(self):
        """The ClientHello bytes, not sent."""
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.outgoing.read()

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _pump(self):
        data = self.sock.recv(65536)
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def handshake(self):
        while True:
            try:
                self.tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._pump():
                    raise ConnectionError("EOF during the handshake")

    def send(self, data):
        self.tls.write(data)
        self._flush()

    def read_all(self, deadline=IO_TIMEOUT):
        """Plaintext until the server ends: (bytes, how) with how 'close_notify' or
        'eof' (the TCP FIN without close_notify)."""
        out = b""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                chunk = self.tls.read(65536)
                if not chunk:
                    return out, "close_notify"
                out += chunk
                continue
            except ssl.SSLZeroReturnError:
                return out, "close_notify"
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLEOFError:
                return out, "eof"
            except ssl.SSLError:
                return out, "alert"
            try:
                if not self._pump():
                    continue  # the next read reports how it ended
            except (ConnectionResetError, socket.timeout):
                return out, "reset"
        raise AssertionError("the server did not end the stream: %r" % out[-200:])

    def close(self):
        self.sock.close()
