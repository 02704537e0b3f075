"""A small Flask app for the INI + access log end-to-end test."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items/<int:item_id>")
def item(item_id):
    response = jsonify(id=item_id, q=request.args.get("q"))
    response.headers["X-App"] = "flask"
    return response
