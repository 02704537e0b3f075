"""Process helpers shared by the process-model tests: /proc reads by pid, never by name."""
import os
import time


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid):
    """Running (or stopped), not gone and not a zombie."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def live_children(pid):
    """Pids whose parent is `pid`, zombies left out."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields and int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                out.append(int(entry))
    return sorted(out)


def wait_until(predicate, what, timeout, interval=0.05):
    """Polls `predicate` until it returns something true, and returns that; fails naming
    `what` after `timeout` seconds. An AssertionError, so it also works outside pytest."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def accepted_and_read(port, client_ports):
    """The client ports among `client_ports` whose connection to the server on 127.0.0.1:port
    the server has accepted (the socket has an inode: one still in the accept queue has
    none) and holds no unread bytes for (rx_queue 0), from /proc/net/tcp."""
    out = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            local_port = int(cols[1].split(":")[1], 16)
            remote_port = int(cols[2].split(":")[1], 16)
            if (local_port == port and remote_port in client_ports and cols[3] == "01"
                    and int(cols[4].split(":")[1], 16) == 0 and int(cols[9]) != 0):
                out.add(remote_port)
    return out


def fd_targets(pid):
    """What each open fd of `pid` points at (readlink of /proc/PID/fd/N). An fd closed
    while we list (the process may be importing) is skipped."""
    links = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            links.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            continue
    return links
