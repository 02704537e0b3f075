"""pytest plugin that scripts/sanitize.sh and scripts/tsan.sh load (`-p pytest_sanitizer_reports`).

A worker that dies of an ASan or UBSan report or a failed GTHREADD_ASSERT is replaced by the
master like any crashed worker (and one with a TSan report keeps serving), so the client may
only see a reset, or nothing at all, and the report would stay in a server log nobody prints. This turns any sanitizer report in the log of a server that
tests/integration/conftest.py started into a test error that shows the report.
"""
import re
import sys

import pytest

REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|: runtime error: "
                    r"|WARNING: ThreadSanitizer|: assertion failed: "
                    r"|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|ThreadSanitizer)")
CONTEXT_LINES = 120

_pending = []


def _report_in(log):
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if REPORT.search(line):
            return "\n".join(lines[max(0, i - 5):i + CONTEXT_LINES])
    return None


def _find_server_class():
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if path.endswith("conftest.py") and hasattr(module, "Server") and hasattr(module, "_LIVE"):
            return module.Server
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    server_class = _find_server_class()
    if server_class is None or getattr(server_class, "_sanitizer_checked", False):
        return
    original_stop = server_class.stop

    def stop(self, *args, **kwargs):
        code = original_stop(self, *args, **kwargs)
        if self.proc is not None and not getattr(self, "_sanitizer_seen", False):
            report = _report_in(self.log)
            if report:
                self._sanitizer_seen = True
                _pending.append("command: %s\n%s" % (" ".join(self.command()), report))
        return code

    server_class.stop = stop
    server_class._sanitizer_checked = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when != "teardown" or not _pending:
        return
    report = outcome.get_result()
    text = "\n\n".join(_pending)
    _pending.clear()
    report.outcome = "failed"
    report.longrepr = "sanitizer report in a server log (stopped during this test):\n" + text
