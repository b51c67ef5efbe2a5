// Membership: this daemon among the others on one database. Every beat() — the daemon calls it every
// 5 s (lease/4 when shorter) from a thread of its own — records the heartbeat (which extends this daemon's claims),
// renews or takes the leader lease, and counts the live daemons (those that beat within two heartbeat
// intervals; at least 1). Thread-safe.
//
// A daemon whose last successful heartbeat is older than half the lease cannot know its claims still
// hold (another daemon may take them over once the lease runs out), so may_start_calls() says no:
// the engine starts no new SCIM call and gives the claims back. With `strict` off (SQLite: the
// single-instance lock keeps everyone else out) it beats again and says yes. The age is taken from
// when the beat was sent, by the daemon's monotonic clock too, and judged again after a beat that
// may_start_calls() makes itself: a beat whose answer came late (a stalled database connection) does
// not prove a lease that another daemon may already have taken over (docs/operations.md "Fencing").
#pragma once

#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace h2r {

inline constexpr std::chrono::milliseconds k_max_heartbeat_interval{5'000};

struct MembershipOptions {
  DaemonRow self;                              // owner, host, pid, version, started_at_ms
  std::chrono::milliseconds lease{120'000};    // scheduler.claim_lease: claims and the leader lease
  bool strict = true;                          // several daemons may share the store (Store::shared())
};

class Membership {
public:
  Membership(Store& store, const Clock& clock, MembershipOptions options);

  // One heartbeat, leader lease and daemon count. False when the heartbeat failed (logged); the
  // leader role is then dropped, the count kept.
  bool beat();
  // Whether a new SCIM call may start now (see above). Called from worker threads.
  bool may_start_calls();
  // This daemon held the leader lease at its last successful beat, and that beat is within half the
  // lease. Always true when not strict (the single daemon leads).
  bool leader() const;
  // Live daemons at the last successful beat (this one included): at least 1.
  int daemons() const;
  // The live daemons as the last successful beat listed them.
  std::vector<DaemonRow> live() const;
  // Forgets this daemon in the store (clean stop); best effort.
  void leave();
  // Why this daemon starts no Zoom call now (strict, heartbeat older than half the lease), for
  // /healthz; nullopt when it may.
  std::optional<std::string> stale_reason() const;
  // Live daemons other than this one, as the store says now (0 when it cannot tell).
  int others_live();

  const std::string& owner() const { return m_options.self.owner; }
  std::chrono::milliseconds lease() const { return m_options.lease; }
  // Every 5 s (a quarter of the lease when that is shorter): a daemon that joins or leaves changes
  // every other's pacing share within seconds, not within a quarter of a 2-minute lease.
  std::chrono::milliseconds interval() const { return std::min<std::chrono::milliseconds>(m_options.lease / 4, k_max_heartbeat_interval); }

private:
  // Last success within half the lease, by the clock seam and by the monotonic clock alike (a wall
  // clock set back cannot make an old beat look young).
  bool fresh_locked(long long now_ms) const H2R_REQUIRES(m_mutex);

  Store& m_store;
  const Clock& m_clock;
  const MembershipOptions m_options;
  mutable Mutex m_mutex;
  long long m_last_success_ms H2R_GUARDED_BY(m_mutex) = 0;   // 0 = never
  // When the last successful beat was sent, by the monotonic clock: the lease it extended runs from
  // no earlier than this, whatever the answer's delay (a stalled connection).
  std::chrono::steady_clock::time_point m_last_success_steady H2R_GUARDED_BY(m_mutex){};
  bool m_leader H2R_GUARDED_BY(m_mutex) = false;
  std::vector<DaemonRow> m_live H2R_GUARDED_BY(m_mutex);
};

} // namespace h2r
