#pragma once

namespace gthreadd::master {

// Parses settings, sets up logging, binds, and runs the arbiter. Returns the exit code.
int run_main(int argc, char** argv);

}  // namespace gthreadd::master
