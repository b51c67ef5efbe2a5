#include "core/read_lease.hpp"

#include <cerrno>
#include <csignal>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>

namespace h2r {

ReadLease ReadLease::take(int fd) {
  // The break notice as a signal that is ignored by default (not SIGIO, which would end the process).
  if (::fcntl(fd, F_SETSIG, SIGURG) != 0) return {-1, State::unknown, errno};
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) return {fd, State::held, 0};
  const int err = errno;
  if (err == EAGAIN || err == EBUSY) return {-1, State::writing, 0};
  return {-1, State::unknown, err};   // EACCES (not the owner, no CAP_LEASE), EINVAL (no leases here)
}

ReadLease::ReadLease(ReadLease&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_state(other.m_state), m_errno(other.m_errno) {}

ReadLease::~ReadLease() {
  if (m_fd >= 0) (void)::fcntl(m_fd, F_SETLEASE, F_UNLCK);
}

bool ReadLease::still_held() const {
  // While a writer waits, F_GETLEASE answers the type the lease is being broken to (F_UNLCK).
  return m_state == State::held && ::fcntl(m_fd, F_GETLEASE) == F_RDLCK;
}

bool written_at_least_ago(const struct ::stat& st, std::chrono::milliseconds settle) {
  const auto written = std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return std::chrono::system_clock::now().time_since_epoch() - written >= settle;
}

} // namespace h2r
