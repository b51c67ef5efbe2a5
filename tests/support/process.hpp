// Child processes for tests: run h2rd (or anything) without a shell, capturing its output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace h2r::test {

using Env = std::map<std::string, std::string>;

inline constexpr std::chrono::milliseconds k_default_process_timeout{60'000};

struct ProcessResult {
  int exit_code = -1;     // exit status; 128+N when killed by signal N; -1 when it timed out
  std::string out;        // everything written to stdout
  std::string err;        // everything written to stderr
  bool timed_out = false; // it ran past the timeout and was killed with SIGKILL
};

// Runs argv[0] (a path, or a name looked up in PATH) with `argv`, writes `stdin_text` to its stdin
// then closes it, and waits for it to end; `env` adds to or overrides this process's environment.
// Throws std::runtime_error when the program cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, std::string_view stdin_text = {},
                          const Env& env = {}, std::chrono::milliseconds timeout = k_default_process_timeout);

// A long-running child: started in the constructor with stdin, stdout and stderr on pipes; a
// background thread writes `stdin_text` (then closes stdin) and collects the output.
// Destruction kills it (SIGKILL) if it still runs, and reaps it. Not copyable; methods are
// thread-safe.
class ChildProcess {
public:
  // Throws std::runtime_error when the program cannot be started.
  explicit ChildProcess(const std::vector<std::string>& argv, const Env& env = {}, std::string stdin_text = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return m_pid; }
  // Sends `sig` unless the child has already been reaped.
  void send_signal(int sig);
  // The exit code (as in ProcessResult) once it has ended, or nullopt after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, up to `grace` for it to end, then SIGKILL; returns the exit code.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  bool running();

  // Output captured so far.
  std::string out() const;
  std::string err() const;
  // Waits until stdout (or stderr) contains `text`; false after `timeout` or if the stream ended first.
  bool wait_for_out(std::string_view text, std::chrono::milliseconds timeout) const;
  bool wait_for_err(std::string_view text, std::chrono::milliseconds timeout) const;

private:
  void pump(int in_fd, int out_fd, int err_fd, std::string stdin_text);
  bool wait_for(const std::string& stream, std::string_view text, std::chrono::milliseconds timeout) const;
  std::optional<int> reap(bool block);

  pid_t m_pid = -1;
  std::optional<int> m_exit_code;
  std::thread m_pump;
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_changed;
  std::string m_out;
  std::string m_err;
  bool m_streams_closed = false;
};

} // namespace h2r::test
