"""The invalid-request corpus (tests/data/requests/invalid, see its generate.py) as pytest
cases, and the pool of servers it runs against, shared by test_request_corpus.py (plain
HTTP) and test_tls.py (the same verdicts over TLS)."""
import os

import pytest

from conftest import HERE, IS_GUNICORN, CallLog

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


# pytest.param(raw request, expected status, corpus `limit` or None), one per case.
CASES = _load_cases()


def limit_servers(make, tmp_path_factory):
    """A generator for a module-scoped fixture: yields get(limit), which returns a started
    counter:app server run with the corpus `limit`'s flag (None = defaults), its call log
    cleared. `make(args, env)` builds the (unstarted) server; one is started per distinct
    limit on first use and shared by the cases that need the same flags, all stopped at the
    end of the module."""
    started = {}

    def get(limit):
        if limit not in started:
            args = []
            if limit:
                key, value = limit.split("=")
                args = [LIMIT_FLAGS[key], value]
            path = str(tmp_path_factory.mktemp("calls") / "calls.log")
            server = make(args, {"GTHREADD_TEST_CALLS": path})
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
