"""Starts a server on a socket it did not bind, the way a supervisor would:

    socket_launcher.py fd PORT_FILE COMMAND...       binds 127.0.0.1:0, passes it as fd://N
    socket_launcher.py systemd PORT_FILE COMMAND...  binds 127.0.0.1:0, passes it as fd 3
                                                     with LISTEN_FDS=1 and LISTEN_PID (sd_listen_fds)
    socket_launcher.py gunicorn-fd PORT_FILE COMMAND...  binds 127.0.0.1:0, passes it in
                                                     GUNICORN_FD, as a gunicorn master's USR2 does

The bound port is written to PORT_FILE, then this process execs COMMAND (so the server
keeps this pid, which LISTEN_PID must name). In "fd" mode "{fd}" in COMMAND is replaced by
the descriptor number.
"""
import os
import socket
import sys


def main():
    mode, port_file, command = sys.argv[1], sys.argv[2], sys.argv[3:]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    with open(port_file, "w") as f:
        f.write(str(sock.getsockname()[1]))
    fd = sock.detach()
    if mode == "systemd":
        if fd != 3:
            os.dup2(fd, 3)
            os.close(fd)
            fd = 3
        os.environ["LISTEN_FDS"] = "1"
        os.environ["LISTEN_PID"] = str(os.getpid())
    elif mode == "gunicorn-fd":
        os.environ["GUNICORN_FD"] = str(fd)
    elif mode == "fd":
        command = [arg.replace("{fd}", str(fd)) for arg in command]
    else:
        sys.exit("unknown mode %r" % mode)
    os.set_inheritable(fd, True)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
