"""A Flask app (Debian's python3-flask) for the wsgi unit tests: JSON, send_file, errors."""
import flask

app = flask.Flask(__name__)


@app.route("/json")
def json_route():
    return flask.jsonify(hello="world", method=flask.request.method)


@app.route("/echo", methods=["POST"])
def echo():
    return flask.request.get_data()


@app.route("/file")
def file_route():
    return flask.send_file(__file__, mimetype="text/plain")
