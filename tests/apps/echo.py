"""Echo: returns, as JSON, what the app read from wsgi.input plus method, path, query and
the HTTP_* headers. The path picks how the body is read, so each wsgi.input method is
exercised on its own:

    /read       read()                 /readn      read(7) until b""
    /readline   readline() until b""   /readline5  readline(5) until b""
    /readlines  readlines()            /iter       for line in wsgi.input
    /noread     does not touch the body
"""
import json


def _read_body(path, stream):
    if path == "/read":
        return [stream.read()]
    if path == "/readn":
        parts = []
        for _ in range(1_000_000):  # bounded: a server that never returns b"" fails, not hangs
            part = stream.read(7)
            if not part:
                break
            parts.append(part)
        return parts
    if path in ("/readline", "/readline5"):
        size = 5 if path == "/readline5" else -1
        lines = []
        for _ in range(1_000_000):
            line = stream.readline(size) if size > 0 else stream.readline()
            if not line:
                break
            lines.append(line)
        return lines
    if path == "/readlines":
        return list(stream.readlines())
    if path == "/iter":
        return [line for line in stream]
    return []


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    parts = _read_body(path, environ["wsgi.input"])
    headers = {k[5:]: v for k, v in environ.items() if k.startswith("HTTP_")}
    result = {
        "method": environ["REQUEST_METHOD"],
        "path": path,
        "query": environ.get("QUERY_STRING", ""),
        "content_length": environ.get("CONTENT_LENGTH", ""),
        "content_type": environ.get("CONTENT_TYPE", ""),
        "headers": headers,
        # latin-1 maps bytes 1:1 onto code points, so any body survives the JSON round trip.
        "body": b"".join(parts).decode("latin-1"),
        "parts": [p.decode("latin-1") for p in parts],
    }
    out = json.dumps(result).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(out)))])
    return [out]


application = app
