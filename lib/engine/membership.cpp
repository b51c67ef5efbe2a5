#include "engine/membership.hpp"

#include "core/text.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace h2r {

Membership::Membership(Store& store, const Clock& clock, MembershipOptions options)
    : m_store(store), m_clock(clock), m_options(std::move(options)) {}

bool Membership::beat() {
  MutexLock lock(m_mutex);
  const long long now_ms = to_unix_ms(m_clock.now());
  const auto sent = std::chrono::steady_clock::now();
  const long long lease_ms = m_options.lease.count();
  auto extended = m_store.heartbeat(m_options.self, now_ms, lease_ms);
  if (!extended) {
    if (m_leader) spdlog::warn("leader.lost owner={} reason=\"heartbeat failed\"", escape_for_log(owner()));
    m_leader = false;
    spdlog::error("daemon.heartbeat_failed owner={} error=\"{}\"", escape_for_log(owner()),
                  escape_for_log(extended.error().message));
    return false;
  }
  m_last_success_ms = now_ms;
  m_last_success_steady = sent;
  auto lead = m_store.try_lead(owner(), now_ms, lease_ms);
  const bool leading = lead && *lead;
  if (!lead)
    spdlog::error("store.failed what=try_lead error=\"{}\"", escape_for_log(lead.error().message));
  if (leading != m_leader)
    spdlog::info("{} owner={}", leading ? "leader.acquired" : "leader.lost", escape_for_log(owner()));
  m_leader = leading;
  // Live: a beat within two heartbeat intervals.
  if (auto live = m_store.list_daemons(now_ms, 2 * interval().count()))
    m_live = std::move(live).value();
  else
    spdlog::error("store.failed what=list_daemons error=\"{}\"", escape_for_log(live.error().message));
  return true;
}

bool Membership::fresh_locked(long long now_ms) const {
  return m_last_success_ms > 0 && now_ms - m_last_success_ms < m_options.lease.count() / 2 &&
         std::chrono::steady_clock::now() - m_last_success_steady < m_options.lease / 2;
}

bool Membership::may_start_calls() {
  {
    MutexLock lock(m_mutex);
    const long long now_ms = to_unix_ms(m_clock.now());
    if (fresh_locked(now_ms)) return true;
    // Strict: only while no claim can have run out (the last beat is within the lease) may a beat now
    // prove that the claims are still this daemon's.
    if (m_options.strict && (m_last_success_ms == 0 || now_ms - m_last_success_ms >= m_options.lease.count()))
      return false;
  }
  const bool beaten = beat();
  if (!m_options.strict) return true;
  // The beat's answer may have come long after it was sent: it proves the claims only while the
  // lease it extended is young, judged now.
  MutexLock lock(m_mutex);
  return beaten && fresh_locked(to_unix_ms(m_clock.now()));
}

bool Membership::leader() const {
  if (!m_options.strict) return true;   // the one daemon the single-instance lock lets in
  MutexLock lock(m_mutex);
  return m_leader && fresh_locked(to_unix_ms(m_clock.now()));
}

int Membership::daemons() const {
  MutexLock lock(m_mutex);
  return std::max(1, static_cast<int>(m_live.size()));
}

std::vector<DaemonRow> Membership::live() const {
  MutexLock lock(m_mutex);
  return m_live;
}

void Membership::leave() {
  MutexLock lock(m_mutex);
  if (auto r = m_store.remove_daemon(owner()); !r)
    spdlog::warn("daemon.remove_failed owner={} error=\"{}\"", escape_for_log(owner()), escape_for_log(r.error().message));
  m_leader = false;
  m_last_success_ms = 0;
}

int Membership::others_live() {
  auto live = m_store.list_daemons(to_unix_ms(m_clock.now()), 2 * interval().count());
  if (!live) return 0;
  return static_cast<int>(std::count_if(live->begin(), live->end(), [&](const DaemonRow& d) { return d.owner != owner(); }));
}

std::optional<std::string> Membership::stale_reason() const {
  if (!m_options.strict) return std::nullopt;
  MutexLock lock(m_mutex);
  const long long now_ms = to_unix_ms(m_clock.now());
  if (fresh_locked(now_ms)) return std::nullopt;
  if (m_last_success_ms == 0) return "no heartbeat recorded in the database yet: no Zoom call starts";
  return fmt::format("the last heartbeat recorded in the database is {:.0f} s old (over half of scheduler.claim_lease): "
                     "no Zoom call starts (daemon.heartbeat_failed in the log)",
                     static_cast<double>(now_ms - m_last_success_ms) / 1000.0);
}

} // namespace h2r
