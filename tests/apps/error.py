"""/raise raises before start_response (the server answers 500 and keeps serving);
any other path answers 200 "ok"."""


class AppFailure(Exception):
    pass


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/raise":
        raise AppFailure("deliberate failure for the test suite")
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


application = app
