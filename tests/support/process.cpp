#include "support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace h2r::test {

namespace {

constexpr std::chrono::milliseconds k_poll_step{5};
constexpr std::chrono::milliseconds k_drain_timeout{5000}; // output still in the pipes after exit

struct Pipe {
  int read = -1;
  int write = -1;
};

Pipe make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  return {fds[0], fds[1]};
}

std::vector<std::string> merged_environment(const Env& additions) {
  std::vector<std::string> out;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string name(text.substr(0, text.find('=')));
    if (additions.count(name) == 0) {
      out.emplace_back(text);
    }
  }
  for (const auto& [name, value] : additions) {
    out.push_back(name + "=" + value);
  }
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

} // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const Env& env, std::string stdin_text) {
  if (argv.empty()) {
    throw std::runtime_error("ChildProcess: empty argv");
  }
  // A child that exits without reading its stdin must not kill the test with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  const Pipe in = make_pipe();
  const Pipe out = make_pipe();
  const Pipe err = make_pipe();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
  std::vector<std::string> args = argv;
  std::vector<std::string> environment = merged_environment(env);
  const std::vector<char*> c_args = c_strings(args);
  const std::vector<char*> c_env = c_strings(environment);
  // The child starts with SIGPIPE at its default, as from a shell: the SIG_IGN above (inherited
  // through exec otherwise) must not hide a program that dies of it (issue 26).
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  const int rc = posix_spawnp(&m_pid, args[0].c_str(), &actions, &attributes, c_args.data(), c_env.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  for (const int fd : {in.read, out.write, err.write}) {
    close(fd);
  }
  if (rc != 0) {
    for (const int fd : {in.write, out.read, err.read}) {
      close(fd);
    }
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  fcntl(in.write, F_SETFL, fcntl(in.write, F_GETFL) | O_NONBLOCK);
  m_pump = std::thread(&ChildProcess::pump, this, in.write, out.read, err.read, std::move(stdin_text));
}

ChildProcess::~ChildProcess() {
  if (!reap(false)) {
    kill(m_pid, SIGKILL);
    reap(true);
  }
  if (m_pump.joinable()) {
    m_pump.join();
  }
}

void ChildProcess::pump(int in_fd, int out_fd, int err_fd, std::string stdin_text) {
  size_t written = 0;
  if (stdin_text.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3] = {{in_fd, POLLOUT, 0}, {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0 && errno != EINTR) {
      break;
    }
    if (in_fd >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n = ::write(in_fd, stdin_text.data() + written, stdin_text.size() - written);
      if (n > 0) {
        written += static_cast<size_t>(n);
      }
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_text.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
    for (const int i : {1, 2}) {
      int& fd = i == 1 ? out_fd : err_fd;
      if (fd < 0 || (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) == 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        std::lock_guard lock(m_mutex);
        (i == 1 ? m_out : m_err).append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fd);
        fd = -1;
      }
      m_changed.notify_all();
    }
  }
  if (in_fd >= 0) {
    close(in_fd);
  }
  std::lock_guard lock(m_mutex);
  m_streams_closed = true;
  m_changed.notify_all();
}

std::optional<int> ChildProcess::reap(bool block) {
  std::lock_guard lock(m_mutex);
  if (!m_exit_code) {
    int status = 0;
    if (waitpid(m_pid, &status, block ? 0 : WNOHANG) == m_pid) {
      m_exit_code = exit_code_of(status);
    }
  }
  return m_exit_code;
}

void ChildProcess::send_signal(int sig) {
  std::lock_guard lock(m_mutex);
  if (!m_exit_code) {
    kill(m_pid, sig);
  }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<int> code = reap(false);
  while (!code && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(k_poll_step);
    code = reap(false);
  }
  if (code) {
    std::unique_lock lock(m_mutex);
    m_changed.wait_for(lock, k_drain_timeout, [this] { return m_streams_closed; });
  }
  return code;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  send_signal(SIGTERM);
  if (const auto code = wait(grace)) {
    return *code;
  }
  send_signal(SIGKILL);
  return wait(k_drain_timeout).value_or(-1);
}

bool ChildProcess::running() { return !reap(false).has_value(); }

std::string ChildProcess::out() const {
  std::lock_guard lock(m_mutex);
  return m_out;
}

std::string ChildProcess::err() const {
  std::lock_guard lock(m_mutex);
  return m_err;
}

bool ChildProcess::wait_for(const std::string& stream, std::string_view text, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_mutex);
  m_changed.wait_for(lock, timeout, [&] { return stream.find(text) != std::string::npos || m_streams_closed; });
  return stream.find(text) != std::string::npos;
}

bool ChildProcess::wait_for_out(std::string_view text, std::chrono::milliseconds timeout) const {
  return wait_for(m_out, text, timeout);
}

bool ChildProcess::wait_for_err(std::string_view text, std::chrono::milliseconds timeout) const {
  return wait_for(m_err, text, timeout);
}

ProcessResult run_process(const std::vector<std::string>& argv, std::string_view stdin_text, const Env& env,
                          std::chrono::milliseconds timeout) {
  ChildProcess child(argv, env, std::string(stdin_text));
  ProcessResult result;
  if (const auto code = child.wait(timeout)) {
    result.exit_code = *code;
  } else {
    result.timed_out = true;
    child.send_signal(SIGKILL);
    child.wait(k_drain_timeout);
  }
  result.out = child.out();
  result.err = child.err();
  return result;
}

} // namespace h2r::test
