"""--help: each option shows the kind of value it takes and its default, instead of CLI11's
"TEXT ..." (issue 12), and lists only what gthreadd accepts (issue 14: `--log-syslog-to`
listed tcp://, which was then refused). Every value --help offers is tried for real with
--check-config, which opens the log sinks as a start would."""
import re
import socket
import subprocess

import pytest

from conftest import APPS, BIN, IS_GUNICORN

pytestmark = pytest.mark.skipif(BIN is None or IS_GUNICORN, reason="gthreadd's own --help")

# "  -w,--workers INT      number of worker processes  [default: 1]"; a long option column
# puts the description on the next line.
OPTION = re.compile(r"^  (-\S+)(?: (\S+)(?: \.\.\.)?)?(?:\s{2,}(.*))?$")


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120, cwd=APPS)


def check_config(*args):
    result = run("--check-config", "-b", "127.0.0.1:0", *args, "hello:app")
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def help_text():
    result = run("--help")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def options(help_text):
    """{flag spelling: (value name or None, description)}, each spelling of an option."""
    found = {}
    # The refused options' footer is prose: a wrapped line of it may start with a flag.
    footer = help_text.find("gunicorn options gthreadd refuses")
    lines = (help_text if footer < 0 else help_text[:footer]).splitlines()
    for i, line in enumerate(lines):
        m = OPTION.match(line)
        if not m:
            continue
        description = m.group(3)
        if description is None and i + 1 < len(lines):
            description = lines[i + 1].strip()
        for flag in m.group(1).split(","):
            found[flag] = (m.group(2), description or "")
    return found


def test_no_option_shows_clis_placeholder(help_text, options):
    assert "TEXT ..." not in help_text
    assert not re.search(r"^  -\S+ \S+ \.\.\.", help_text, re.M), help_text
    # A sample of each kind, with the default gunicorn documents.
    assert options["--workers"] == ("INT", "number of worker processes  [default: 1]")
    assert options["--timeout"][0] == "SECONDS" and options["--timeout"][1].endswith("[default: 30]")
    assert options["--bind"][0] == "ADDRESS" and "default 127.0.0.1:8000" in options["--bind"][1]
    assert options["--max-body-memory"][0] == "SIZE"
    assert options["--max-body-memory"][1].endswith("[default: 64M]")
    assert options["--log-level"][0] == "{debug,info,warning,error,critical}"
    assert options["--log-level"][1].endswith("[default: info]")
    assert options["--chdir"][0] == "DIR"


def test_file_mode_defaults_are_octal(options):
    # gunicorn's docs give control_socket_mode's default as 0600; 384 is that mode in decimal,
    # which reads as a wrong mode. --print-config keeps the int, as gunicorn's print_config does.
    assert options["--control-socket-mode"][0] == "MODE"
    assert options["--control-socket-mode"][1].endswith("[default: 0600]")
    assert options["--umask"][1].endswith("[default: 0]")
    printed = run("--print-config")
    assert printed.returncode == 0, printed.stderr
    assert re.search(r"^control_socket_mode\s+= 384$", printed.stdout, re.M), printed.stdout


def test_every_choice_listed_is_accepted(options):
    choices = {flag: value[1:-1].split(",") for flag, (value, _) in options.items()
               if value and value.startswith("{")}
    assert "--reload-engine" in choices and "--proxy-protocol" in choices
    for flag, values in choices.items():
        for value in values:
            code, output = check_config(flag, value)
            assert code == 0, "%s %s is listed by --help but refused:\n%s" % (flag, value, output)


def test_every_syslog_address_listed_is_accepted(options, tmp_path):
    description = options["--log-syslog-to"][1]
    schemes = set(re.findall(r"\b([a-z]+)://", description))
    assert schemes, description
    sockets = []
    try:
        for scheme in sorted(schemes):
            if scheme == "udp":
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1", 0))
                address = "udp://127.0.0.1:%d" % s.getsockname()[1]
            elif scheme == "tcp":
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.1", 0))
                s.listen(8)
                address = "tcp://127.0.0.1:%d" % s.getsockname()[1]
            elif scheme == "unix":
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.bind(str(tmp_path / "syslog.sock"))
                address = "unix://%s" % (tmp_path / "syslog.sock")
            else:
                pytest.fail("--help lists a syslog scheme this test does not know: %s://" % scheme)
            sockets.append(s)
            code, output = check_config("--log-syslog", "--log-syslog-to", address)
            assert code == 0, "--log-syslog-to %s is listed by --help but refused:\n%s" % (address, output)
    finally:
        for s in sockets:
            s.close()


def test_a_syslog_address_of_another_scheme_is_refused_with_the_configuration(tmp_path):
    code, output = check_config("--log-syslog", "--log-syslog-to", "syslog.example:514")
    assert code != 0
    assert "tcp://" in output and "udp://" in output, output
    assert "Traceback" not in output


def test_refused_settings_are_named_apart_from_the_options(help_text, options):
    assert not [flag for flag, (_, text) in options.items() if text.startswith("refused")]
    footer = help_text[help_text.index("gunicorn options gthreadd refuses"):]
    named = re.findall(r"--[a-z-]+", footer)
    assert named, footer
    assert not [flag for flag in named if flag in options], footer
