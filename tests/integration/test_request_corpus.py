"""Every invalid case of the parser corpus (tests/data/requests/invalid, see its
generate.py) sent to the live server: the expected status, then the connection closed and
the app never called. The unit tests check the parser alone; this checks the server wires
the parser's verdict to the socket and keeps the request away from the app."""
import os
import re

import pytest

from conftest import HERE, IS_GUNICORN, CallLog, Server, assert_rejected

pytestmark = pytest.mark.strict  # gunicorn 20.1 accepts many of these (that is the point)

CORPUS = os.path.join(HERE, "..", "data", "requests", "invalid")

# corpus `limit` key → server flag
LIMIT_FLAGS = {"request_line": "--limit-request-line", "fields": "--limit-request-fields",
               "field_size": "--limit-request-field-size", "body": "--limit-request-body"}


def _load_cases():
    cases = []
    if not os.path.isdir(CORPUS):
        return cases
    for name in sorted(os.listdir(CORPUS)):
        if not name.endswith(".http"):
            continue
        base = name[:-5]
        with open(os.path.join(CORPUS, name), "rb") as f:
            raw = f.read()
        expect = {}
        with open(os.path.join(CORPUS, base + ".expect")) as f:
            for line in f:
                key, _, value = line.strip().partition(" ")
                expect[key] = value
        marks = []
        if "option" in expect:
            # The option relaxes a rule and the case checks it stays invalid anyway; the
            # relaxing flags belong to the config area's tests, not this corpus run.
            marks.append(pytest.mark.skip(reason="needs --%s, covered by unit tests"
                                          % expect["option"].replace("_", "-")))
        limit = expect.get("limit")
        if limit and limit.startswith("body=") and IS_GUNICORN:
            marks.append(pytest.mark.skip(reason="gunicorn 20.1 has no --limit-request-body"))
        cases.append(pytest.param(raw, int(expect["status"]), limit, id=base, marks=marks))
    return cases


CASES = _load_cases()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """counter:app servers keyed by the corpus `limit` value (None = defaults), started on
    first use and shared by the cases that need the same flags."""
    started = {}

    def get(limit):
        if limit not in started:
            args = []
            if limit:
                key, value = limit.split("=")
                args = [LIMIT_FLAGS[key], value]
            path = str(tmp_path_factory.mktemp("calls") / "calls.log")
            server = Server("counter:app", args, env={"GTHREADD_TEST_CALLS": path})
            started[limit] = server
            server.start()
            server.calls = CallLog(path)
        server = started[limit]
        server._check_alive()
        server.calls.clear()
        return server

    yield get
    for server in started.values():
        server.stop()


def test_corpus_is_present():
    assert len(CASES) > 50, "the invalid request corpus is missing or nearly empty"


@pytest.mark.parametrize("raw,status,limit", CASES)
def test_invalid_request_is_rejected(servers, raw, status, limit):
    assert_rejected(servers(limit), raw, status, behind=False)
