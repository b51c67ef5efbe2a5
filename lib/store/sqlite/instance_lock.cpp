#include "store/sqlite/instance_lock.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace h2r {

namespace {

constexpr std::size_t k_pid_text_max = 32;   // bytes of the lock file read for the holder's pid

// The pid written in the lock file, or "unknown" (the holder may be between flock and write).
std::string holder_pid(int fd) {
  char text[k_pid_text_max + 1] = {};
  const ssize_t n = ::pread(fd, text, k_pid_text_max, 0);
  if (n <= 0) return "unknown";
  std::string pid;
  for (ssize_t i = 0; i < n && text[i] >= '0' && text[i] <= '9'; ++i) pid += text[i];
  return pid.empty() ? "unknown" : pid;
}

Unexpected<Error> os_error(const std::string& path, const char* what) {
  return fail(ErrorKind::permanent, fmt::format("lock file {}: cannot {}: {}", path, what, std::strerror(errno)));
}

} // namespace

std::string instance_lock_path(const std::string& database_path) {
  // Every name of one file gives one lock: symlinks (of the file or of a folder above it) and "..",
  // resolved as far as the path exists (the database may not have been created yet).
  std::error_code ec;
  const auto resolved = std::filesystem::weakly_canonical(database_path, ec);
  return (ec || resolved.empty() ? database_path : resolved.string()) + ".lock";
}

Result<InstanceLock> InstanceLock::acquire(const std::string& database_path) {
  std::string path = instance_lock_path(database_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return os_error(path, "open");
  InstanceLock lock(fd, path);   // closes fd on every return below
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return os_error(path, "lock");
    return fail(ErrorKind::conflict,
                fmt::format("database {} is in use by another h2rd run (pid {}; lock file {}): one daemon per "
                            "database",
                            database_path, holder_pid(fd), path));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0) return os_error(path, "truncate");
  if (::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) return os_error(path, "write");
  return lock;
}

InstanceLock::InstanceLock(InstanceLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_path(std::move(other.m_path)) {}

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_path = std::move(other.m_path);
  }
  return *this;
}

// The file stays: removing it would race with a process that just opened it (two holders of two
// different files). Closing drops the lock.
InstanceLock::~InstanceLock() {
  if (m_fd >= 0) ::close(m_fd);
}

} // namespace h2r
