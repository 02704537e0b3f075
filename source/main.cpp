#include "gthreadd/master/main_entry.hpp"

int main(int argc, char** argv) { return gthreadd::master::run_main(argc, argv); }
