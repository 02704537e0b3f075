"""A Flask app (Debian's python3-flask) with a JSON route."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/api/items/<int:item_id>")
def item(item_id):
    return jsonify(id=item_id, name="item-%d" % item_id, q=request.args.get("q"))


@app.route("/api/echo", methods=["POST"])
def echo():
    return jsonify(received=request.get_json(force=True))
