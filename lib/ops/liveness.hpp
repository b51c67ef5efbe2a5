// Whether a daemon is up, as `h2rd status` (another process) sees it: `h2rd run` records its pid and
// a heartbeat in the store's meta table; status checks the pid with kill(pid, 0) and the heartbeat's age.
#pragma once

#include "core/clock.hpp"
#include "store/meta_keys.hpp"
#include "store/store.hpp"

#include <string>

namespace h2r {


// How often `h2rd run` writes daemon.heartbeat; status calls a heartbeat older than
// k_heartbeat_stale_after "stuck".
inline constexpr std::chrono::seconds k_heartbeat_persist_every{10};
inline constexpr std::chrono::seconds k_heartbeat_stale_after{150};

struct DaemonLiveness {
  std::string state;            // "running", "stuck" (alive, heartbeat stale), "stopped"
  long long pid = 0;            // 0 = none recorded
  long long heartbeat_ms = 0;   // unix ms, 0 = none
  long long started_ms = 0;
  std::string metrics_listen;   // "" = no endpoint
};

// Reads the meta keys and probes the pid. `alive` is the probe (default kill(pid, 0), EPERM = alive).
DaemonLiveness daemon_liveness(Store& store, SystemTime now, bool (*alive)(long long pid) = nullptr);

} // namespace h2r
