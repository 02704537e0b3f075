"""flask: one JSON route through Debian's python3-flask (routing, request and jsonify)."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return jsonify(message="Hello, World!", items=[1, 2, 3])
