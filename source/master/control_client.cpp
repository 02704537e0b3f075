#include "gthreadd/master/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/master/control_format.hpp"
#include "gthreadd/master/control_protocol.hpp"

namespace gthreadd::master {
namespace {

constexpr int kTimeoutMs = 30'000;  // gunicornc's ControlClient default

const char* const kUsage =
    "usage: gthreadd ctl -s SOCKET [-j] [COMMAND... | -c COMMAND]\n"
    "\n"
    "Talk to a running gthreadd master through its control socket (--control-socket),\n"
    "as gunicorn 25.1's gunicornc does. Without a command, reads commands from stdin.\n"
    "\n"
    "  -s, --socket PATH    the server's --control-socket\n"
    "  -c, --command TEXT   the command (or give it as words after the options)\n"
    "  -j, --json           print the answer as JSON\n"
    "\n"
    "commands: show workers|stats|config|listeners|all, worker add [N], worker remove [N],\n"
    "          worker kill PID, reload, reopen, shutdown [graceful|quick], help\n";

struct Options {
  std::string socket;
  std::string command;
  bool json = false;
};

class ClientError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Why a connect failed, in words that say what to do.
std::string connect_error(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
      return "no control socket at " + path + " (is gthreadd running with --control-socket " +
             path + "?)";
    case EACCES:
    case EPERM:
      return "permission denied on " + path +
             " (the socket is mode 0600 by default: run as the server's user, or give the "
             "server --control-socket-mode 0660 and join its group)";
    case ECONNREFUSED:
      return "nothing answers at " + path + " (the server has stopped; the file is stale)";
    case ENOTSOCK: return path + " is not a socket";
    default: return "cannot connect to " + path + ": " + std::strerror(err);
  }
}

class Connection {
 public:
  explicit Connection(const std::string& path) : reader_(kMaxResponse) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw ClientError("socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd_ || ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw ClientError(connect_error(path, errno));
  }

  Json send(const std::string& command) {
    const std::string frame = encode_frame(make_request(++id_, command));
    for (std::size_t done = 0; done < frame.size();) {
      const ssize_t put = ::send(fd_.get(), frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) throw ClientError(std::string("communication error: ") + std::strerror(errno));
      done += static_cast<std::size_t>(put);
    }
    return receive();
  }

 private:
  Json receive() {
    std::string payload;
    while (reader_.next(payload) != FrameReader::Status::Message) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, kTimeoutMs) == 0) throw ClientError("no answer from the server in 30 s");
      char buf[65536];
      const ssize_t got = ::read(fd_.get(), buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw ClientError("communication error: the server closed the connection");
      reader_.feed({buf, static_cast<std::size_t>(got)});
    }
    std::string error;
    auto response = Json::parse(payload, error);
    if (!response) throw ClientError("communication error: " + error);
    return *response;
  }

  core::UniqueFd fd_;
  FrameReader reader_;
  std::int64_t id_ = 0;
};

// Sends one command and prints its answer; false (after printing the error) on an error.
bool run_one(Connection& conn, const std::string& command, bool json) {
  const Json response = conn.send(command);
  const Json* status = response.find("status");
  if (status && status->text() == "error") {
    const Json* error = response.find("error");
    std::cerr << "Error: " << (error ? error->text() : std::string("unknown error")) << '\n';
    return false;
  }
  const Json* data = response.find("data");
  const Json empty{Json::Object{}};
  std::cout << (json ? (data ? *data : empty).dump(2)
                     : format_answer(command, data ? *data : empty))
            << '\n';
  return true;
}

int interactive(Connection& conn, const Options& options) {
  const bool tty = ::isatty(STDIN_FILENO) != 0;
  if (tty)
    std::cout << "Connected to " << options.socket
              << "\nType 'help' for commands, 'quit' to exit.\n";
  int code = 0;
  for (std::string line;;) {
    if (tty) std::cout << "gthreadd> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    line = line.substr(first);
    if (line == "quit" || line == "exit" || line == "q") break;
    if (!run_one(conn, line, options.json)) code = 1;
  }
  return code;
}

// false: usage error (printed).
bool parse_options(int argc, char** argv, Options& out) {
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= argc) return false;
      into = argv[++i];
      return true;
    };
    if (!words.empty()) words.emplace_back(arg);  // after the first word, all are the command's
    else if (arg == "-s" || arg == "--socket") {
      if (!value(out.socket)) return false;
    } else if (arg.starts_with("--socket=")) out.socket = arg.substr(9);
    else if (arg == "-c" || arg == "--command") {
      if (!value(out.command)) return false;
    } else if (arg == "-j" || arg == "--json") out.json = true;
    else if (arg.starts_with("-")) return false;
    else words.emplace_back(arg);
  }
  for (const auto& w : words) out.command += (out.command.empty() ? "" : " ") + w;
  return !out.socket.empty();
}

}  // namespace

int run_control_client(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "-h" || std::string_view(argv[i]) == "--help") {
      std::cout << kUsage;
      return 0;
    }
  }
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::cerr << kUsage << "\nError: "
              << (options.socket.empty() ? "give the server's control socket with -s PATH"
                                         : "invalid option")
              << '\n';
    return 2;
  }
  try {
    Connection conn(options.socket);
    if (options.command.empty()) return interactive(conn, options);
    return run_one(conn, options.command, options.json) ? 0 : 1;
  } catch (const ClientError& e) {
    std::cerr << "Error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace gthreadd::master
