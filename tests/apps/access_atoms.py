"""An app whose responses exercise every access-log atom: /status/NNN answers that status,
/empty sends no body, anything else a short body with a response header holding a quote."""


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/status/"):
        code = path[len("/status/"):]
        start_response(code + " Whatever", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    if path == "/empty":
        start_response("204 No Content", [])
        return []
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Out", 'v"1'),
                              ("Content-Length", str(len(body)))])
    return [body]
