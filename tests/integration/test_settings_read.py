"""Every setting gthreadd accepts is read by code outside the config area (issue 10: settings
parsed and listed as supported that nothing used). A Settings member only the config code
touches is accepted and ignored, which the project forbids: implement it or refuse it with a
message (config/setting_builders' refused())."""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SETTINGS_HPP = os.path.join(ROOT, "headers", "gthreadd", "config", "settings.hpp")


def settings_members():
    """Names of the data members of struct Settings, from its header."""
    with open(SETTINGS_HPP) as f:
        text = f.read()
    body = re.search(r"struct Settings \{\n(.*?)\n\};", text, re.S).group(1)
    names = []
    for line in body.splitlines():
        # Members sit at two spaces; deeper lines continue an initializer.
        if not re.match(r"  \S", line) or line.lstrip().startswith(("//", "}", "{")):
            continue
        declaration = re.split(r"[=;{]", line.split("//")[0], 1)[0].strip()
        name = re.search(r"(\w+)$", declaration)
        if name:
            names.append(name.group(1))
    return names


def sources_outside_config():
    out = []
    for top in ("source", os.path.join("headers", "gthreadd")):
        for directory, _, files in os.walk(os.path.join(ROOT, top)):
            if os.path.basename(directory) == "config":
                continue
            for name in files:
                if name.endswith((".cpp", ".hpp", ".h", ".cc")):
                    with open(os.path.join(directory, name), errors="replace") as f:
                        out.append(f.read())
    return "\n".join(out)


def test_the_settings_header_is_understood():
    members = settings_members()
    for name in ("workers", "bind", "secure_scheme_headers", "limit_request_line", "cpu_affinity"):
        assert name in members, members
    assert len(members) > 60


# Members the config area itself consumes: the file it read (-c) is a source of settings,
# not a setting the server acts on.
CONSUMED_BY_CONFIG = {"config_file"}


def test_every_setting_is_read_outside_the_config_area():
    code = sources_outside_config()
    unread = [name for name in settings_members()
              if name not in CONSUMED_BY_CONFIG
              if not re.search(r"(?:\.|->|::)%s\b" % re.escape(name), code)]
    assert not unread, (
        "settings no code outside source/config reads (accepted and ignored): %s; "
        "implement them or refuse them in their config/*_settings.cpp row" % ", ".join(unread))
