#include "gthreadd/wsgi/thread_traceback.hpp"

#include <Python.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mutex>
#include <string_view>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::wsgi {
namespace {

// CPython's own frame dumper (Python/traceback.c), exported by libpython 3.9-3.13 and used
// by faulthandler. Looked up at run time, not linked: it is not in the public headers, and
// a CPython without it gets a one-line explanation instead of a failed start.
using DumpTraceback = void (*)(int fd, PyThreadState* tstate);

DumpTraceback dumper() noexcept {
  static const auto fn =
      reinterpret_cast<DumpTraceback>(::dlsym(RTLD_DEFAULT, "_Py_DumpTraceback"));
  return fn;
}

// The thread list is walked without the HEAD lock, as faulthandler's dump does: pool
// threads keep their thread state for the worker's life, so the one we find stays valid.
PyThreadState* find_thread(unsigned long thread_id) noexcept {
  for (PyInterpreterState* interp = PyInterpreterState_Head(); interp;
       interp = PyInterpreterState_Next(interp)) {
    for (PyThreadState* t = PyInterpreterState_ThreadHead(interp); t; t = PyThreadState_Next(t))
      if (t->thread_id == thread_id) return t;
  }
  return nullptr;
}

std::string read_all(int fd) {
  std::string text;
  char chunk[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  return text;
}

// faulthandler's "Stack (most recent call first):" + frames, innermost first, becomes
// Python's usual order. Other lines ("  ...", "  <no Python frame>") stay where they were
// relative to the frames: at the end of the list, so first after the reversal.
std::string most_recent_last(std::string_view dump) {
  std::vector<std::string_view> frames;
  while (!dump.empty()) {
    const auto eol = dump.find('\n');
    std::string_view line = dump.substr(0, eol);
    dump = eol == std::string_view::npos ? std::string_view{} : dump.substr(eol + 1);
    if (line.starts_with("Stack (") || line.empty()) continue;
    frames.push_back(line);
  }
  if (frames.empty()) return "  (no Python frame)";
  std::string out = "Traceback (most recent call last):";
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    out += '\n';
    out += *it;
  }
  return out;
}

}  // namespace

std::string thread_traceback(unsigned long thread_id) {
  static std::mutex one_at_a_time;
  const std::lock_guard lock(one_at_a_time);
  const DumpTraceback dump = dumper();
  if (!dump) return "  (no traceback: this CPython does not export _Py_DumpTraceback)";
  PyThreadState* tstate = find_thread(thread_id);
  if (!tstate) return "  (no traceback: the thread has no Python thread state)";
  // A memory file, not a pipe: a deep stack could fill a pipe's buffer and block the dump.
  const core::UniqueFd file(::memfd_create("gthreadd-traceback", MFD_CLOEXEC));
  if (!file) return "  (no traceback: memfd_create failed)";
  dump(file.get(), tstate);
  return most_recent_last(read_all(file.get()));
}

}  // namespace gthreadd::wsgi
