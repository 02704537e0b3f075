"""Checks of the harness's own parsing and arithmetic (no servers; one loopback socket):
    /usr/bin/python3 -m unittest discover -s load-tests/tests"""
import socket
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import procstat, report, scenarios, servers, wrk  # noqa: E402

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:40001/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.92ms    2.93ms  22.78ms   91.85%
    Req/Sec    11.44k     2.77k   18.34k    85.00%
  Latency Distribution
     50%  850.00us
     75%    4.12ms
     90%    9.01ms
     99%    1.20s
  22801 requests in 2.01s, 2.11MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 5
Requests/sec:  11367.30
Transfer/sec:      1.05MB
"""


def measurement(server, rps, rnd=1, scenario="hello"):
    return report.Measurement(rnd, scenario, server, rps, 1.0, 2.0, 100, 0, 0.1, 1.0, 5.0, 2)


class WrkParse(unittest.TestCase):
    def test_reads_rate_percentiles_in_ms_and_errors(self):
        r = wrk.parse(WRK_OUTPUT)
        self.assertEqual(r.requests, 22801)
        self.assertAlmostEqual(r.seconds, 2.01)
        self.assertAlmostEqual(r.rps, 11367.30)
        self.assertAlmostEqual(r.p50_ms, 0.85)
        self.assertAlmostEqual(r.p99_ms, 1200.0)
        self.assertEqual(r.errors, 1 + 2 + 3 + 4 + 5)

    def test_clean_run_has_no_errors(self):
        text = WRK_OUTPUT.replace("  Socket errors: connect 1, read 2, write 3, timeout 4\n", "")
        text = text.replace("  Non-2xx or 3xx responses: 5\n", "")
        self.assertEqual(wrk.parse(text).errors, 0)

    def test_output_without_latency_distribution_is_an_error(self):
        with self.assertRaises(ValueError):
            wrk.parse(WRK_OUTPUT.replace("     99%    1.20s\n", ""))

    def test_command_pins_and_passes_headers(self):
        cmd = wrk.command("http://127.0.0.1:1/", 3, 50, headers=("Connection: close",), cpu=1)
        self.assertEqual(cmd[:3], ["taskset", "-c", "1"])
        self.assertIn("-c50", cmd)
        self.assertEqual(cmd[cmd.index("-H") + 1], "Connection: close")


class Summary(unittest.TestCase):
    def test_median_over_rounds_and_ratio(self):
        runs = [measurement("gthreadd", v, i) for i, v in enumerate((300, 100, 200))]
        runs += [measurement("uwsgi", 100, 1)]
        rows = report.summarize(runs, {})
        self.assertEqual([r.rps for r in rows], [200, 100])
        self.assertAlmostEqual(report.ratio(rows, "hello", "uwsgi"), 2.0)
        self.assertIsNone(report.ratio(rows, "hello", "gunicorn"))

    def test_matched_latency_median_ratio_and_columns(self):
        runs = [measurement("gthreadd", 100.0, i) for i in (1, 2, 3)]
        for m, p99 in zip(runs, (4.0, 2.0, 9.0)):
            m.p99_matched_ms, m.p50_matched_ms = p99, 1.0
        runs.append(measurement("uwsgi", 90.0))
        runs[-1].p99_matched_ms, runs[-1].p50_matched_ms = 8.0, 0.5
        runs.append(measurement("gunicorn", 10.0))  # run without the matched run
        rows = report.summarize(runs, {})
        self.assertEqual(rows[0].p99_matched_ms, 4.0)
        self.assertIsNone(rows[2].p99_matched_ms)
        self.assertAlmostEqual(report.ratio(rows, "hello", "uwsgi", "p99_matched_ms"), 0.5)
        table = report.markdown(rows, "head", matched=8)
        self.assertIn("p99 ms c8", table)
        self.assertIn("| p99 c8 ÷ uWSGI |", table)
        self.assertIn("| hello | 1.11 | 10 | – | 1 | 0.5 | 1 |", table)

    def test_skipped_server_keeps_its_reason(self):
        rows = report.summarize([measurement("uwsgi", 100)],
                                {("hello", "gthreadd"): "build failed"})
        skipped = next(r for r in rows if r.server == "gthreadd")
        self.assertEqual((skipped.runs, skipped.note), (0, "build failed"))
        self.assertIn("skipped: build failed", report.markdown(rows, "title"))


class Commands(unittest.TestCase):
    def test_preload_loads_before_fork_in_every_server(self):
        hello = scenarios.select(["hello"])[0]
        rundir = Path("/nonexistent")
        for preload in (False, True):
            budget = servers.Budget(2, 4, preload)
            ours = servers.Gthreadd(Path("/bin/gthreadd")).command(hello, 1, budget, rundir)
            theirs = servers.Gunicorn().command(hello, 1, budget, rundir)
            uwsgi = servers.Uwsgi().command(hello, 1, budget, rundir)
            self.assertEqual("--preload" in ours, preload)
            self.assertEqual("--preload" in theirs, preload)
            self.assertNotIn("--lazy-apps", uwsgi)  # uWSGI's default already loads first

    def test_tls_gives_every_server_the_certificate(self):
        hello = scenarios.select(["hello"])[0]
        tls = servers.Tls(Path("/c/cert.pem"), Path("/c/key.pem"))
        budget = servers.Budget()
        flags = ["--certfile", "/c/cert.pem", "--keyfile", "/c/key.pem"]
        for server in (servers.Gthreadd(Path("/bin/gthreadd"), tls=tls), servers.Gunicorn(tls=tls)):
            argv = server.command(hello, 1, budget, Path("/nonexistent"))
            at = argv.index("--certfile")
            self.assertEqual(argv[at:at + 4], flags)
            self.assertLess(at, argv.index(hello.app))
        plain = servers.Gunicorn().command(hello, 1, budget, Path("/nonexistent"))
        self.assertNotIn("--certfile", plain)
        self.assertIsNotNone(servers.Uwsgi(tls=tls).unavailable())
        with tempfile.TemporaryDirectory() as tmp:
            conf = servers.write_nginx_conf(Path(tmp), 8443, 2, hello.nginx, tls).read_text()
            self.assertIn("listen 127.0.0.1:8443 ssl;", conf)
            self.assertIn("ssl_certificate /c/cert.pem;", conf)
            self.assertIn("ssl_certificate_key /c/key.pem;", conf)
            conf = servers.write_nginx_conf(Path(tmp), 8080, 2, hello.nginx).read_text()
            self.assertIn("listen 127.0.0.1:8080;", conf)
            self.assertNotIn("ssl", conf)


class Readme(unittest.TestCase):
    def test_table_replaces_only_the_marked_part(self):
        with tempfile.TemporaryDirectory() as tmp:
            readme = Path(tmp) / "README.md"
            readme.write_text(f"intro\n{report.BEGIN} x -->\nold\n{report.END}\nouttro\n")
            self.assertTrue(report.update_readme(readme, "new table\n", None))
            text = readme.read_text()
            self.assertIn("new table", text)
            self.assertNotIn("old", text)
            self.assertTrue(text.startswith("intro\n") and text.endswith("outtro\n"))


class Scenarios(unittest.TestCase):
    def test_group_selects_both_hello_runs(self):
        self.assertEqual([s.name for s in scenarios.select(["hello"])], ["hello", "hello-close"])

    def test_unknown_name_is_rejected(self):
        with self.assertRaises(ValueError):
            scenarios.select(["nope"])


class AcceptQueue(unittest.TestCase):
    def test_counts_connections_the_server_has_not_accepted(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)
            port = listener.getsockname()[1]
            self.assertEqual(procstat.accept_queue(port), 0)
            clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
            try:
                self.assertEqual(procstat.accept_queue(port), 3)
                listener.accept()[0].close()
                self.assertEqual(procstat.accept_queue(port), 2)
            finally:
                for c in clients:
                    c.close()

    def test_no_listener_is_none(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound, not listening
            self.assertIsNone(procstat.accept_queue(port))

    def test_table_flags_a_server_that_left_clients_waiting(self):
        runs = [measurement("gthreadd", 100.0), measurement("uwsgi", 90.0)]
        runs[1].unaccepted = 42.0
        table = report.markdown(report.summarize(runs, {}), "head")
        self.assertIn("| 42 |", table)
        self.assertIn("uwsgi (hello)", table)
        self.assertNotIn("gthreadd (hello)", table)


class BudgetTest(unittest.TestCase):
    def test_the_w10t5_scenarios_run_the_design_cards_command_line_for_every_server(self):
        chosen = scenarios.select(["w10t5"])
        self.assertEqual([s.name for s in chosen], ["hello-w10t5", "flask-w10t5"])
        for s in chosen:
            budget = servers.budget_for(s, 2, 4, False)
            self.assertEqual((budget.workers, budget.threads), (10, 5))
            argv = servers.Gthreadd(Path("/bin/true")).command(s, 8000, budget, Path("/tmp"))
            self.assertIn("-w 10 --threads 5", " ".join(argv))

    def test_other_scenarios_take_the_command_lines_budget(self):
        hello = scenarios.select(["hello"])[0]
        budget = servers.budget_for(hello, 3, 7, True)
        self.assertEqual((budget.workers, budget.threads, budget.preload), (3, 7, True))


if __name__ == "__main__":
    unittest.main()
