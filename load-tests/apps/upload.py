"""upload: reads the whole request body (1 MiB POSTs from wrk/upload.lua) in 64 KiB reads
and answers with the byte count, so a server that truncates the body is visible."""

CHUNK = 64 * 1024


def app(environ, start_response):
    stream = environ["wsgi.input"]
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    total = 0
    while remaining > 0:
        data = stream.read(min(CHUNK, remaining))
        if not data:
            break
        total += len(data)
        remaining -= len(data)
    body = b"%d\n" % total
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
