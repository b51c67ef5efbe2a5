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

// A row of the store's daemons table as `h2rd status` sees it, on every backend, with lease_ms the
// claim lease (scheduler.claim_lease):
//   "live": its heartbeat is younger than lease_ms / 2 (the engine's own freshness test, which it must
//           pass to start Zoom calls: lib/engine/membership.cpp);
//   "late": older, but younger than lease_ms: its claims are still its own, one heartbeat renews them;
//   "gone": older than lease_ms, or `host` is this host and `pid` does not run here: its claims stay
//           held until their lease_until_ms, then the next daemon's claim takes them over.
// `this_host` is gethostname(2) ("localhost" when unknown, as the engine names its owner); `alive` as above.
std::string daemon_row_state(const DaemonRow& row, long long now_ms, long long lease_ms, const std::string& this_host,
                             bool (*alive)(long long pid) = nullptr);
// gethostname(2), "localhost" when it fails: the host part of this process's claim owner.
std::string this_host_name();

} // namespace h2r
