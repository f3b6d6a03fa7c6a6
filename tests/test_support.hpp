// Helpers shared by the tests: where ../shared is, reading files, running the xrdbench binary.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <csignal>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

#include "base/data_paths.hpp"

namespace xrd::test {

// The shared/ folder (fixtures, paper): base/data_paths.hpp's rule (XRD_SHARED_DIR in the environment wins); no
// fixtures there -> throw xrd::Error naming the folder (fails loudly).
inline std::filesystem::path fixtures() { return paths::fixtures_dir(); }
inline std::filesystem::path shared_dir() { return fixtures().parent_path(); }
// The real detector frames (fixtures/real/*.cbf), sorted by name.
inline std::vector<std::filesystem::path> real_frames() {
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(fixtures() / "real"))
    if (e.path().extension() == ".cbf") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + p.string());
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The whole file as a string ("" when it cannot be opened: a file not written yet).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The path in single quotes, for run_xrdbench's shell line.
inline std::string quoted(const std::filesystem::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

// A fresh temporary directory for one test.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("xrdbench_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

struct CommandResult {
  int status;
  std::string output;  // stdout + stderr
};

// Runs the xrdbench binary with the given arguments (a shell string), capturing stdout and stderr.
inline CommandResult run_xrdbench(const std::string& args) {
  std::string cmd = std::string("\"") + XRDBENCH_EXE + "\" " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// Starts the xrdbench binary with these arguments (no shell) in a child process, its stdout and stderr to /dev/null;
// returns the child's pid (throws when fork fails). For tests that interrupt a run: see interrupt_and_wait().
inline pid_t spawn_xrdbench(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s{XRDBENCH_EXE};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)) ::_exit(126);
    ::execv(XRDBENCH_EXE, argv.data());
    ::_exit(127);
  }
  return pid;
}

// Sends SIGINT (Ctrl-C) to the child `pid` and waits for it: its exit status, or -1 when it did not exit normally
// (killed by a signal).
inline int interrupt_and_wait(pid_t pid) {
  ::kill(pid, SIGINT);
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace xrd::test
