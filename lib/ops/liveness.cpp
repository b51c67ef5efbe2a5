#include "ops/liveness.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>

#include <unistd.h>

namespace h2r {
namespace {

bool pid_alive(long long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

long long meta_number(Store& store, const char* key) {
  auto value = store.get_meta(key);
  if (!value || !*value || (*value)->empty()) return 0;
  return std::strtoll((*value)->c_str(), nullptr, 10);
}

} // namespace

DaemonLiveness daemon_liveness(Store& store, SystemTime now, bool (*alive)(long long pid)) {
  DaemonLiveness out;
  out.pid = meta_number(store, k_meta_daemon_pid);
  out.heartbeat_ms = meta_number(store, k_meta_daemon_heartbeat);
  out.started_ms = meta_number(store, k_meta_daemon_started);
  auto listen = store.get_meta(k_meta_metrics_listen);
  if (listen && *listen) out.metrics_listen = **listen;
  const bool up = (alive ? alive : pid_alive)(out.pid);
  if (!up || out.pid == 0) {
    out.state = "stopped";
    return out;
  }
  const auto age = now - from_unix_ms(out.heartbeat_ms);
  out.state = age > k_heartbeat_stale_after ? "stuck" : "running";
  return out;
}

std::string daemon_row_state(const DaemonRow& row, long long now_ms, long long lease_ms, const std::string& this_host,
                             bool (*alive)(long long pid)) {
  const long long age = now_ms - row.heartbeat_at_ms;
  if (age >= lease_ms || (row.host == this_host && !(alive ? alive : pid_alive)(row.pid))) return "gone";
  return age < lease_ms / 2 ? "live" : "late";
}

std::string this_host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

} // namespace h2r
