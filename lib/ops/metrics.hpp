// Metrics: the daemon's counters, rendered in Prometheus text format 0.0.4 for GET /metrics.
// Counters live here (fed by the SCIM observer, the token transport and the engine's outcome hook);
// gauges read from elsewhere at scrape time (queue depth, rules version) come in as LiveGauges.
// Thread-safe.
#pragma once

#include "core/mutex.hpp"
#include "zoom/scim_client.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace h2r {

struct ActionReport;

inline constexpr const char* k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Values read at scrape time.
struct LiveGauges {
  std::map<std::string, long long> queue;   // events in the store by state name
  long long rejected_files = -1;            // event files in the inbox's rejected/; -1 = unreadable (left out)
  std::string rules_version;                // "" = no rules in force
  double heartbeat_age_seconds = 0;
  bool healthy = true;
  int daemons = 1;                          // live daemons on the database (this one included)
  bool leader = true;                       // this daemon holds the leader lease
  // Pacing drawn from the database (several daemons), by connection: grants taken, and fallbacks to
  // rate / daemons when the database did not answer. Connections with neither are left out.
  std::map<std::string, std::pair<long long, long long>> pace;
};

class Metrics {
public:
  Metrics();

  // One finished SCIM exchange: request count by connection/method/status, latency histogram by
  // connection, and a rate-limit wait for a 429.
  void observe_scim(const ScimCallRecord& call);
  // The writes one target of an event made at Zoom (never a dry run's): each attribute change of its
  // PUT/POST /Users calls, and each group membership it added or removed.
  void count_applied(const ActionReport& report);
  // One attribute change pushed: attribute = attribute_metric_label(path) (bounded); kind = set (before
  // null), cleared (after null, "", false or []) or changed.
  void count_attribute_change(std::string_view connection, std::string_view path, const nlohmann::json& before,
                              const nlohmann::json& after);
  // One group membership h2r added (add) or removed (!add).
  void count_group_change(std::string_view connection, bool add);
  // One OAuth token request: ok (200) or not.
  void count_token(bool ok);
  // One event outcome recorded by the engine (state: done, skipped, failed, pending=retry, held...).
  void count_event(std::string_view type, std::string_view state);
  // One fenced store write (event outcome, hold) failed, by what ("record_outcome", "hold_event").
  void count_store_write_failure(std::string_view what);
  // One claim of the engine: `claimed` events, `rescued` of them taken over from a dead daemon.
  void count_claims(int claimed, int rescued);
  // An outcome or hold refused because the claim was lost (another daemon or an operator came first).
  void count_lease_loss();
  // One reload of h2rd.yaml (SIGHUP): applied, or refused by validation.
  void count_config_reload(bool ok);
  // One scheduler cycle ended at `end_unix_ms` after `seconds`.
  void count_cycle(double seconds, long long end_unix_ms);

  // This daemon's SCIM calls and 429 answers per hour, for the console's chart of the day: the last
  // 24 hours up to the one holding `now_ms`, oldest first (in memory: a restart starts from zero).
  struct HourOfCalls {
    long long hour_ms = 0;   // the hour's start (UTC)
    std::uint64_t calls = 0;
    std::uint64_t throttled = 0;   // answered 429
  };
  static constexpr std::size_t k_hours_kept = 24;
  std::vector<HourOfCalls> calls_by_hour(long long now_ms) const;
  // observe_scim's hourly count at `now_ms` (observe_scim passes the system clock's time).
  void count_call_hour(long long now_ms, bool throttled);

  // The whole exposition, families in a fixed order, ending with a newline.
  std::string render(const LiveGauges& live) const;

  // Upper bounds (seconds) of the request latency histogram's buckets, +Inf implied.
  static const std::vector<double>& latency_buckets();

private:
  struct Histogram {
    std::vector<std::uint64_t> buckets;   // non-cumulative counts per bucket
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable Mutex m_mutex;
  std::map<std::pair<std::string, std::string>, std::uint64_t> m_events H2R_GUARDED_BY(m_mutex);   // type, state
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> m_requests H2R_GUARDED_BY(m_mutex);   // conn, method, status
  std::map<std::string, Histogram> m_latency H2R_GUARDED_BY(m_mutex);   // by connection
  std::map<std::string, std::uint64_t> m_rate_limit_waits H2R_GUARDED_BY(m_mutex);   // by connection
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> m_attribute_changes H2R_GUARDED_BY(m_mutex);   // conn, attribute, kind
  std::map<std::pair<std::string, std::string>, std::uint64_t> m_group_changes H2R_GUARDED_BY(m_mutex);   // conn, add|remove
  std::uint64_t m_tokens_ok H2R_GUARDED_BY(m_mutex) = 0;
  std::uint64_t m_tokens_failed H2R_GUARDED_BY(m_mutex) = 0;
  std::map<std::string, std::uint64_t> m_store_write_failures H2R_GUARDED_BY(m_mutex);   // by what
  std::uint64_t m_claims H2R_GUARDED_BY(m_mutex) = 0;
  std::uint64_t m_claim_rescues H2R_GUARDED_BY(m_mutex) = 0;
  std::uint64_t m_lease_losses H2R_GUARDED_BY(m_mutex) = 0;
  std::uint64_t m_config_reloads_ok H2R_GUARDED_BY(m_mutex) = 0;
  std::uint64_t m_config_reloads_failed H2R_GUARDED_BY(m_mutex) = 0;
  std::uint64_t m_cycles H2R_GUARDED_BY(m_mutex) = 0;
  double m_last_cycle_seconds H2R_GUARDED_BY(m_mutex) = 0;
  long long m_last_cycle_unix_ms H2R_GUARDED_BY(m_mutex) = 0;
  std::array<HourOfCalls, k_hours_kept> m_hours H2R_GUARDED_BY(m_mutex){};   // ring, by hour index % 24
};

// The kind of an attribute change for h2r_attribute_changes_total: "set", "cleared" or "changed".
std::string_view attribute_change_kind(const nlohmann::json& before, const nlohmann::json& after);

// A label value escaped for the text format (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

} // namespace h2r
