// SdNotifier: systemd's notify protocol (sd_notify(3)) in a few lines — one datagram per message to
// the AF_UNIX socket named by $NOTIFY_SOCKET ("/run/..." or "@abstract"). Without $NOTIFY_SOCKET every
// send is a no-op, so `h2rd run` behaves the same outside systemd. Thread-safe (each send is one
// sendto on a fresh socket).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace h2r {

class SdNotifier {
public:
  // `socket_path` "" = disabled; `watchdog` = the service's watchdog timeout (0 = none).
  explicit SdNotifier(std::string socket_path = {}, std::chrono::microseconds watchdog = {});

  // From $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (the watchdog is ours only when
  // WATCHDOG_PID is unset or names this process).
  static SdNotifier from_environment();

  bool enabled() const { return !m_path.empty(); }
  // Sends "READY=1", "STATUS=...", several lines joined by '\n'... False when disabled or the send failed.
  bool send(std::string_view message) const;
  // How often to send WATCHDOG=1 (half the watchdog timeout), or nullopt when there is no watchdog.
  std::optional<std::chrono::microseconds> watchdog_interval() const;

  // "MONOTONIC_USEC=<CLOCK_MONOTONIC now>", as RELOADING=1 wants beside it.
  static std::string monotonic_usec();

private:
  std::string m_path;
  std::chrono::microseconds m_watchdog;
};

} // namespace h2r
