"""Load-test harness for gthreadd and its peers (issue 4). Stdlib only, /usr/bin/python3."""
