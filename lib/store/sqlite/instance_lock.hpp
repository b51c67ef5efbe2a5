// InstanceLock: one `h2rd run` per database. An flock(LOCK_EX | LOCK_NB) on "<resolved database>.lock", held
// for the object's lifetime; the kernel drops it when the process ends however it ends (crash,
// SIGKILL), so a stale lock file never blocks a restart. The file holds the holder's pid, for the
// message a second process prints. The descriptor is O_CLOEXEC: a child process never inherits it.
//
// One-shot commands (`events …`, `connection …`, `status`) do not take it: their writes are safe next
// to a running daemon because every outcome is fenced by a claim (store.hpp).
#pragma once

#include "core/error.hpp"

#include <string>

namespace h2r {

class InstanceLock {
public:
  // conflict when another process holds the lock (the message names its pid and the lock file);
  // permanent when the lock file cannot be opened or written.
  static Result<InstanceLock> acquire(const std::string& database_path);

  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();

  const std::string& path() const { return m_path; }

private:
  InstanceLock(int fd, std::string path) : m_fd(fd), m_path(std::move(path)) {}
  int m_fd = -1;
  std::string m_path;
};

// "<database_path>.lock", the database path resolved first (symlinks, "..", as far as it exists): a
// database reached through a symlink is locked by the same file as through its real path.
std::string instance_lock_path(const std::string& database_path);

} // namespace h2r
