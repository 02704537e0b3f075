"""Every invalid case of the parser corpus (tests/data/requests/invalid, see its
generate.py) sent to the live server: the expected status, then the connection closed and
the app never called. The unit tests check the parser alone; this checks the server wires
the parser's verdict to the socket and keeps the request away from the app."""
import pytest

from conftest import Server, assert_rejected
from corpus_util import CASES, limit_servers

pytestmark = pytest.mark.strict  # gunicorn 20.1 accepts many of these (that is the point)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """counter:app servers keyed by the corpus `limit` value (None = defaults), started on
    first use and shared by the cases that need the same flags."""
    yield from limit_servers(lambda args, env: Server("counter:app", args, env=env),
                             tmp_path_factory)


def test_corpus_is_present():
    assert len(CASES) > 50, "the invalid request corpus is missing or nearly empty"


@pytest.mark.parametrize("raw,status,limit", CASES)
def test_invalid_request_is_rejected(servers, raw, status, limit):
    assert_rejected(servers(limit), raw, status, behind=False)
