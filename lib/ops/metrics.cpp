#include "ops/metrics.hpp"

#include "core/build_info.hpp"
#include "core/time.hpp"
#include "engine/provisioner.hpp"
#include "rules/short_path.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace h2r {
namespace {

std::string number(double v) { return fmt::format("{}", v); }

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

} // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string_view attribute_change_kind(const nlohmann::json& before, const nlohmann::json& after) {
  if (before.is_null()) return "set";
  const bool empty = after.is_null() || (after.is_string() && after.get_ref<const std::string&>().empty()) ||
                     (after.is_boolean() && !after.get<bool>()) || (after.is_array() && after.empty());
  return empty ? "cleared" : "changed";
}

const std::vector<double>& Metrics::latency_buckets() {
  static const std::vector<double> buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return buckets;
}

Metrics::Metrics() = default;

void Metrics::observe_scim(const ScimCallRecord& call) {
  const std::string status = call.status == 0 ? "none" : std::to_string(call.status);
  const double seconds = std::chrono::duration<double>(call.latency).count();
  MutexLock lock(m_mutex);
  ++m_requests[{call.connection, call.method, status}];
  Histogram& h = m_latency[call.connection];
  if (h.buckets.empty()) h.buckets.assign(latency_buckets().size(), 0);
  for (std::size_t i = 0; i < latency_buckets().size(); ++i)
    if (seconds <= latency_buckets()[i]) {
      ++h.buckets[i];
      break;
    }
  ++h.count;
  h.sum += seconds;
  if (call.status == 429) ++m_rate_limit_waits[call.connection];
  lock.unlock();
  count_call_hour(to_unix_ms(std::chrono::system_clock::now()), call.status == 429);
}

void Metrics::count_call_hour(long long now_ms, bool throttled) {
  constexpr long long hour = 3'600'000;
  const long long start = now_ms - now_ms % hour;
  MutexLock lock(m_mutex);
  HourOfCalls& slot = m_hours[static_cast<std::size_t>((start / hour) % static_cast<long long>(k_hours_kept))];
  if (slot.hour_ms != start) slot = HourOfCalls{start, 0, 0};   // a day old: begin the hour again
  ++slot.calls;
  if (throttled) ++slot.throttled;
}

std::vector<Metrics::HourOfCalls> Metrics::calls_by_hour(long long now_ms) const {
  constexpr long long hour = 3'600'000;
  const long long newest = now_ms - now_ms % hour;
  std::vector<HourOfCalls> out;
  MutexLock lock(m_mutex);
  for (long long h = newest - static_cast<long long>(k_hours_kept - 1) * hour; h <= newest; h += hour) {
    const HourOfCalls& slot = m_hours[static_cast<std::size_t>((h / hour) % static_cast<long long>(k_hours_kept))];
    out.push_back(slot.hour_ms == h ? slot : HourOfCalls{h, 0, 0});
  }
  return out;
}

void Metrics::count_applied(const ActionReport& report) {
  for (const auto& call : report.calls) {
    if (call.resource == "Users" && (call.method == "PUT" || call.method == "POST")) {
      for (const auto& change : call.changes) count_attribute_change(report.connection, change.path, change.before, change.after);
    } else if (call.resource == "Groups") {
      // The provisioner's group calls are "add to group NAME" and "remove from group NAME".
      if (call.summary.rfind("add to group ", 0) == 0) count_group_change(report.connection, true);
      else if (call.summary.rfind("remove from group ", 0) == 0) count_group_change(report.connection, false);
    }
  }
}

void Metrics::count_attribute_change(std::string_view connection, std::string_view path, const nlohmann::json& before,
                                     const nlohmann::json& after) {
  std::string attribute = attribute_metric_label(path);
  const std::string_view kind = attribute_change_kind(before, after);
  MutexLock lock(m_mutex);
  ++m_attribute_changes[{std::string(connection), std::move(attribute), std::string(kind)}];
}

void Metrics::count_group_change(std::string_view connection, bool add) {
  MutexLock lock(m_mutex);
  ++m_group_changes[{std::string(connection), add ? "add" : "remove"}];
}

void Metrics::count_token(bool ok) {
  MutexLock lock(m_mutex);
  ++(ok ? m_tokens_ok : m_tokens_failed);
}

void Metrics::count_event(std::string_view type, std::string_view state) {
  MutexLock lock(m_mutex);
  ++m_events[{std::string(type), std::string(state)}];
}

void Metrics::count_store_write_failure(std::string_view what) {
  MutexLock lock(m_mutex);
  ++m_store_write_failures[std::string(what)];
}

void Metrics::count_claims(int claimed, int rescued) {
  MutexLock lock(m_mutex);
  m_claims += static_cast<std::uint64_t>(std::max(0, claimed));
  m_claim_rescues += static_cast<std::uint64_t>(std::max(0, rescued));
}

void Metrics::count_lease_loss() {
  MutexLock lock(m_mutex);
  ++m_lease_losses;
}

void Metrics::count_config_reload(bool ok) {
  MutexLock lock(m_mutex);
  ++(ok ? m_config_reloads_ok : m_config_reloads_failed);
}

void Metrics::count_cycle(double seconds, long long end_unix_ms) {
  MutexLock lock(m_mutex);
  ++m_cycles;
  m_last_cycle_seconds = seconds;
  m_last_cycle_unix_ms = end_unix_ms;
}

std::string Metrics::render(const LiveGauges& live) const {
  std::string out;
  auto line = [&out](std::string_view name, std::string_view labels, const std::string& value) {
    if (labels.empty())
      fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
    else
      fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, value);
  };
  auto esc = escape_label_value;
  MutexLock lock(m_mutex);

  family(out, "h2r_build_info", "gauge", "Build of the running h2rd (always 1).");
  line("h2r_build_info", fmt::format("version=\"{}\",build_type=\"{}\"", esc(H2R_VERSION), esc(H2R_BUILD_TYPE)), "1");

  family(out, "h2r_rules_info", "gauge", "Version (content hash) of the rules in force (always 1; absent before any valid rules).");
  if (!live.rules_version.empty()) line("h2r_rules_info", fmt::format("version=\"{}\"", esc(live.rules_version)), "1");

  family(out, "h2r_events_total", "counter", "Event outcomes recorded since start, by event type and resulting state.");
  for (const auto& [key, n] : m_events)
    line("h2r_events_total", fmt::format("type=\"{}\",state=\"{}\"", esc(key.first), esc(key.second)), std::to_string(n));

  family(out, "h2r_queue_events", "gauge", "Events in the database by state.");
  for (const auto& [state, n] : live.queue) line("h2r_queue_events", fmt::format("state=\"{}\"", esc(state)), std::to_string(n));

  family(out, "h2r_inbox_rejected_files", "gauge",
         "Event files waiting in the inbox's rejected/ folder for a person (each beside its NAME.error.txt).");
  if (live.rejected_files >= 0) line("h2r_inbox_rejected_files", "", std::to_string(live.rejected_files));

  family(out, "h2r_scim_requests_total", "counter", "SCIM requests to Zoom by connection, method and HTTP status (none = no answer).");
  for (const auto& [key, n] : m_requests)
    line("h2r_scim_requests_total",
         fmt::format("connection=\"{}\",method=\"{}\",status=\"{}\"", esc(std::get<0>(key)), esc(std::get<1>(key)),
                     esc(std::get<2>(key))),
         std::to_string(n));

  family(out, "h2r_scim_request_duration_seconds", "histogram", "SCIM request latency by connection.");
  for (const auto& [connection, h] : m_latency) {
    std::uint64_t cumulative = 0;
    const std::string conn = esc(connection);
    for (std::size_t i = 0; i < latency_buckets().size(); ++i) {
      cumulative += h.buckets[i];
      line("h2r_scim_request_duration_seconds_bucket",
           fmt::format("connection=\"{}\",le=\"{}\"", conn, number(latency_buckets()[i])), std::to_string(cumulative));
    }
    line("h2r_scim_request_duration_seconds_bucket", fmt::format("connection=\"{}\",le=\"+Inf\"", conn),
         std::to_string(h.count));
    line("h2r_scim_request_duration_seconds_sum", fmt::format("connection=\"{}\"", conn), number(h.sum));
    line("h2r_scim_request_duration_seconds_count", fmt::format("connection=\"{}\"", conn), std::to_string(h.count));
  }

  family(out, "h2r_attribute_changes_total", "counter",
         "User attribute changes h2r pushed to Zoom (PUT/POST /Users) since start, by connection, attribute (the "
         "rules' short name; other = outside the known paths and licenses) and kind (set, changed, cleared).");
  for (const auto& [key, n] : m_attribute_changes)
    line("h2r_attribute_changes_total",
         fmt::format("connection=\"{}\",attribute=\"{}\",kind=\"{}\"", esc(std::get<0>(key)), esc(std::get<1>(key)),
                     esc(std::get<2>(key))),
         std::to_string(n));

  family(out, "h2r_group_changes_total", "counter",
         "Zoom group memberships h2r added or removed since start, by connection and op (add, remove).");
  for (const auto& [key, n] : m_group_changes)
    line("h2r_group_changes_total", fmt::format("connection=\"{}\",op=\"{}\"", esc(key.first), esc(key.second)),
         std::to_string(n));

  family(out, "h2r_rate_limit_waits_total", "counter", "HTTP 429 answers from Zoom that made h2r wait, by connection.");
  for (const auto& [connection, n] : m_rate_limit_waits)
    line("h2r_rate_limit_waits_total", fmt::format("connection=\"{}\"", esc(connection)), std::to_string(n));

  family(out, "h2r_tokens_fetched_total", "counter", "OAuth access token requests, by result.");
  line("h2r_tokens_fetched_total", "result=\"ok\"", std::to_string(m_tokens_ok));
  line("h2r_tokens_fetched_total", "result=\"error\"", std::to_string(m_tokens_failed));

  family(out, "h2r_config_reloads_total", "counter",
         "Reloads of h2rd.yaml (SIGHUP) since start, by result: ok (live keys applied) or failed (refused, nothing changed).");
  line("h2r_config_reloads_total", "result=\"ok\"", std::to_string(m_config_reloads_ok));
  line("h2r_config_reloads_total", "result=\"failed\"", std::to_string(m_config_reloads_failed));

  family(out, "h2r_cycles_total", "counter", "Scheduler cycles run since start.");
  line("h2r_cycles_total", "", std::to_string(m_cycles));
  family(out, "h2r_last_cycle_timestamp_seconds", "gauge", "Unix time the last scheduler cycle ended (0 = none yet).");
  line("h2r_last_cycle_timestamp_seconds", "", number(static_cast<double>(m_last_cycle_unix_ms) / 1000.0));
  family(out, "h2r_last_cycle_duration_seconds", "gauge", "How long the last scheduler cycle took.");
  line("h2r_last_cycle_duration_seconds", "", number(m_last_cycle_seconds));
  family(out, "h2r_store_write_failures_total", "counter",
         "Event outcome or hold writes the database refused (each ends its cycle), by what.");
  for (const auto& [what, n] : m_store_write_failures)
    line("h2r_store_write_failures_total", fmt::format("what=\"{}\"", esc(what)), std::to_string(n));

  family(out, "h2r_claims_total", "counter", "Events this daemon claimed (before any Zoom call) since start.");
  line("h2r_claims_total", "", std::to_string(m_claims));
  family(out, "h2r_claim_rescues_total", "counter",
         "Claimed events taken over from a daemon whose lease ran out (it died or stopped heartbeating).");
  line("h2r_claim_rescues_total", "", std::to_string(m_claim_rescues));
  family(out, "h2r_lease_losses_total", "counter",
         "Outcomes or holds refused because this daemon's claim was lost (another daemon or an operator came first).");
  line("h2r_lease_losses_total", "", std::to_string(m_lease_losses));
  family(out, "h2r_daemons", "gauge", "Live daemons on this database (heartbeat within two intervals), this one included.");
  line("h2r_daemons", "", std::to_string(live.daemons));
  family(out, "h2r_leader", "gauge", "1 when this daemon holds the leader lease (runs the singletons), else 0.");
  line("h2r_leader", "", live.leader ? "1" : "0");

  if (!live.pace.empty()) {
    family(out, "h2r_pace_grants_total", "counter",
           "Grants of a connection's rate-limit schedule taken from the database (several daemons), by connection.");
    for (const auto& [connection, n] : live.pace)
      line("h2r_pace_grants_total", fmt::format("connection=\"{}\"", esc(connection)), std::to_string(n.first));
    family(out, "h2r_pace_fallbacks_total", "counter",
           "Times the database did not answer a pacing grant, so this daemon paced the connection alone at its "
           "rate limit / live daemons for a second, by connection.");
    for (const auto& [connection, n] : live.pace)
      line("h2r_pace_fallbacks_total", fmt::format("connection=\"{}\"", esc(connection)), std::to_string(n.second));
  }

  family(out, "h2r_scheduler_heartbeat_age_seconds", "gauge", "Time since the scheduler last showed progress.");
  line("h2r_scheduler_heartbeat_age_seconds", "", number(live.heartbeat_age_seconds));
  family(out, "h2r_healthy", "gauge", "1 when /healthz answers 200, else 0.");
  line("h2r_healthy", "", live.healthy ? "1" : "0");
  return out;
}

} // namespace h2r
