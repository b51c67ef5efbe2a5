// Daemon: its part among several daemons on one database — the heartbeat thread (claims extended,
// leader lease, live daemons and the pacing share), started by run() and run_once().
#include "daemon/daemon.hpp"

#include "core/build_info.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

namespace h2r {

Result<int> release_claims_at_start(Store& store) {
  if (store.shared()) return 0;
  auto released = store.release_claims("");
  if (!released) return fail(ErrorKind::permanent, "cannot release the claims of earlier runs: " + released.error().message);
  if (*released > 0)
    spdlog::warn("claims.released count={} note=\"left by a process that ended without finishing them\"", *released);
  return *released;
}

MembershipOptions Daemon::membership_options() const {
  MembershipOptions options;
  options.self.owner = m_engine.owner();
  options.self.host = options.self.owner.substr(0, options.self.owner.find(':'));
  options.self.pid = ::getpid();
  options.self.version = H2R_VERSION;
  options.self.started_at_ms = to_unix_ms(m_clock.now());
  options.lease = m_config.claim_lease;
  // SQLite: the single-instance lock keeps every other daemon out, so no claim can be taken over.
  options.strict = m_store.shared();
  return options;
}

void Daemon::beat_once() {
  if (m_membership.beat()) m_connections.set_share(m_membership.daemons());
}

Result<void> Daemon::join_cluster() {
  if (!m_membership.beat())
    return fail(ErrorKind::permanent, "cannot record this daemon's heartbeat in the database (see the log)");
  m_connections.set_share(m_membership.daemons());
  spdlog::info("daemon.joined owner={} daemons={} leader={} claim_lease_s={}", escape_for_log(m_membership.owner()),
               m_membership.daemons(), m_membership.leader(),
               std::chrono::duration_cast<std::chrono::seconds>(m_membership.lease()).count());
  return {};
}

void Daemon::heartbeat_loop() {
  while (!m_shutdown.wait_for(m_membership.interval())) beat_once();
}

} // namespace h2r
