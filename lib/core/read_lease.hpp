// ReadLease: whether anyone has a file open for writing, and a guard that keeps writers out while
// h2r reads and moves it. On Linux a read lease (fcntl F_SETLEASE, F_RDLCK) is refused (EAGAIN)
// while any process has the file open for writing, and once held, a process that opens the file for
// writing blocks until the lease is released (at most /proc/sys/fs/lease-break-time seconds, then
// the kernel revokes it). Taking one needs the file's owner or CAP_LEASE (systemd/h2rd.service grants
// it) and a file system that supports leases (not NFS): otherwise the state is `unknown` and the
// caller falls back to its settle rule (the file unchanged for a while).
//
// The lease-break notice is sent as SIGURG (F_SETSIG), whose default action is to be ignored: h2r
// learns of a waiting writer by polling still_held(), never by a signal.
#pragma once

#include <chrono>

struct stat;

namespace h2r {

class ReadLease {
public:
  enum class State { held, writing, unknown };

  // `fd` is open read-only. Released when the object ends (or the descriptor is closed).
  static ReadLease take(int fd);

  ReadLease(ReadLease&& other) noexcept;
  ReadLease& operator=(ReadLease&&) = delete;
  ReadLease(const ReadLease&) = delete;
  ReadLease& operator=(const ReadLease&) = delete;
  ~ReadLease();

  State state() const { return m_state; }
  int error() const { return m_errno; }   // why `unknown` (an errno value), 0 otherwise
  // held, and no process is waiting to open the file for writing (the lease is not being broken).
  bool still_held() const;

private:
  ReadLease(int fd, State state, int err) : m_fd(fd), m_state(state), m_errno(err) {}
  int m_fd = -1;
  State m_state = State::unknown;
  int m_errno = 0;
};

// The settle rule where no lease can be had: true when the file (as `st` shows it) was last written
// at least `settle` ago by the real clock (mtime is the file system's).
bool written_at_least_ago(const struct ::stat& st, std::chrono::milliseconds settle);

} // namespace h2r
