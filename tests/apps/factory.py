"""An app factory called with literal arguments: `factory:create_app('hi', times=3)`."""


def create_app(greeting="hello", times=1):
    body = (" ".join([greeting] * times)).encode()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    return app
