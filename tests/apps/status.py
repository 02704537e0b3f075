"""/204 and /304 answer with that status and try to send a body (the server must drop it);
/head answers 200 with a 13-byte body (HEAD must get the headers only). /NNN in general
answers status NNN; anything else is /head."""


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    code = path.strip("/") or "200"
    if code == "head" or not (code.isdigit() and len(code) == 3):
        code = "200"
    reasons = {"200": "OK", "204": "No Content", "304": "Not Modified"}
    start_response("%s %s" % (code, reasons.get(code, "Whatever")),
                   [("Content-Type", "text/plain")] +
                   ([("Content-Length", "13")] if code == "200" else []))
    return [b"Hello, World!"]


application = app
