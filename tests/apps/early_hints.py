"""wsgi.early_hints (gunicorn 25): / sends two Link hints before its response; /bad passes
a header value with a line break; /late calls it after the body started; /keep keeps the
callable and /kept calls it during a later request."""
kept = []


def app(environ, start_response):
    path = environ["PATH_INFO"]
    hints = environ["wsgi.early_hints"]
    if path == "/bad":
        try:
            hints([("Link", "</x>\r\nX-Injected: 1")])
            body = b"accepted"
        except ValueError:
            body = b"ValueError"
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    if path == "/late":
        write = start_response("200 OK", [])
        write(b"started ")
        hints([("Link", "</late.css>; rel=preload")])
        return [b"done"]
    if path == "/keep":
        kept.append(hints)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]
    if path == "/kept":
        try:
            kept.pop()([("Link", "</x>")])
            body = b"sent"
        except ValueError:
            body = b"ValueError"
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    hints([("Link", "</style.css>; rel=preload; as=style"),
           ("Link", "</app.js>; rel=preload; as=script")])
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"preloaded"]
