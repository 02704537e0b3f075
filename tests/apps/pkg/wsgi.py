"""`gthreadd pkg.wsgi` must find `application` without an explicit :attr."""


def application(environ, start_response):
    body = b"pkg.wsgi application"
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
