#pragma once
// `gthreadd ctl`: the control socket's client, gunicorn 25.1's `gunicornc` as a subcommand
// of the one gthreadd binary (no second program to install). Same options (-s/--socket,
// -c/--command, -j/--json), same commands and output; the command may also be given as
// plain words: `gthreadd ctl -s /run/app.ctl worker add 2`.

namespace gthreadd::master {

// argv[0] is "ctl". Returns the exit code: 0, 1 for an error (as gunicornc), 2 for usage.
int run_control_client(int argc, char** argv);

}  // namespace gthreadd::master
