#include "ops/sd_notify.hpp"

#include "core/text.hpp"
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace h2r {

SdNotifier::SdNotifier(std::string socket_path, std::chrono::microseconds watchdog)
    : m_path(std::move(socket_path)), m_watchdog(watchdog) {}

SdNotifier SdNotifier::from_environment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  std::chrono::microseconds watchdog{0};
  if (const char* usec = std::getenv("WATCHDOG_USEC")) {
    const char* pid = std::getenv("WATCHDOG_PID");
    const bool ours = !pid || std::strtoll(pid, nullptr, 10) == static_cast<long long>(::getpid());
    const long long value = std::strtoll(usec, nullptr, 10);
    if (ours && value > 0) watchdog = std::chrono::microseconds(value);
  }
  return SdNotifier(socket ? socket : "", watchdog);
}

bool SdNotifier::send(std::string_view message) const {
  if (m_path.empty()) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (m_path.size() >= sizeof(addr.sun_path) || (m_path[0] != '/' && m_path[0] != '@')) {
    spdlog::warn("systemd.notify_failed socket=\"{}\" error=\"not an absolute path or @name\"", escape_for_log(m_path));
    return false;
  }
  std::memcpy(addr.sun_path, m_path.data(), m_path.size());
  if (m_path[0] == '@') addr.sun_path[0] = '\0';   // abstract namespace: no trailing NUL counted
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + m_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), length);
  const int err = errno;
  ::close(fd);
  if (sent < 0) {
    spdlog::debug("systemd.notify_failed socket=\"{}\" error=\"{}\"", escape_for_log(m_path), std::strerror(err));
    return false;
  }
  return true;
}

std::optional<std::chrono::microseconds> SdNotifier::watchdog_interval() const {
  if (m_watchdog.count() <= 0) return std::nullopt;
  return m_watchdog / 2;
}

std::string SdNotifier::monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return "MONOTONIC_USEC=" + std::to_string(static_cast<long long>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
}

} // namespace h2r
