"""Returns the environ as JSON: every str/int/bool/tuple value, and the type name of the
others (wsgi.input, wsgi.errors, wsgi.file_wrapper)."""
import json


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, tuple):
        return list(value)
    return "<%s>" % type(value).__name__


def app(environ, start_response):
    data = {key: _jsonable(value) for key, value in environ.items()}
    data["_file_wrapper_callable"] = callable(environ.get("wsgi.file_wrapper"))
    out = json.dumps(data, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(out)))])
    return [out]


application = app
