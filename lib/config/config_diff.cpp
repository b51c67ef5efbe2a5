#include "config/config_diff.hpp"
#include "core/time.hpp"

#include "core/db_url.hpp"

#include <fmt/format.h>

#include <functional>

namespace h2r {
namespace {

// "https://hooks.example.com/services/T0/B0/XYZ" → "https://hooks.example.com": a webhook's path is
// often its secret, so only the origin is ever shown.
std::string webhook_origin(const std::string& url) {
  if (url.empty()) return "";
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "(set)";
  const auto path = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, path);
}

using Value = nlohmann::json;   // what live_values() reports and what is compared

// One key of h2rd.yaml: its name, whether a reload applies it, its value, how it is shown, and how a
// reload copies it. `shown` differs from `value` only for the webhook (compared whole, shown as origin).
struct KeySpec {
  const char* key;
  bool live;
  std::function<Value(const Config&)> value;
  std::function<void(Config&, const Config&)> adopt;   // only for live keys
  std::function<std::string(const Config&)> shown = {};
};

Value duration(std::chrono::milliseconds d) { return format_duration(d); }

std::string text_of(const Value& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

const std::vector<KeySpec>& key_table() {
  static const std::vector<KeySpec> table{
      {"database", false, [](const Config& c) { return Value(c.database); }, {},
       [](const Config& c) { return redact_database(c.database); }},
      {"database.password_file", false, [](const Config& c) { return Value(c.database_password_file); }, {}},
      {"inbox", false, [](const Config& c) { return Value(c.inbox); }, {}},
      {"inbox.date_order", false,
       [](const Config& c) { return Value(std::string(to_string(c.inbox_dates.order))); }, {}},
      {"inbox.excel_serial_dates", false, [](const Config& c) { return Value(c.inbox_dates.excel_serials); }, {}},
      {"rules", false, [](const Config& c) { return Value(c.rules); }, {}},
      {"secret_key_file", false, [](const Config& c) { return Value(c.secret_key_file); }, {}},
      {"listen", false, [](const Config& c) { return Value(c.listen); }, {}},
      {"listen_allow_remote", false, [](const Config& c) { return Value(c.listen_allow_remote); }, {}},
      {"timezone", true, [](const Config& c) { return Value(c.timezone); },
       [](Config& r, const Config& l) { r.timezone = l.timezone; }},
      {"scheduler.interval", true, [](const Config& c) { return duration(c.scheduler_interval); },
       [](Config& r, const Config& l) { r.scheduler_interval = l.scheduler_interval; }},
      {"scheduler.workers", true, [](const Config& c) { return Value(c.workers); },
       [](Config& r, const Config& l) { r.workers = l.workers; }},
      {"scheduler.max_connection_workers", true, [](const Config& c) { return Value(c.max_connection_workers); },
       [](Config& r, const Config& l) { r.max_connection_workers = l.max_connection_workers; }},
      {"scheduler.threads", false, [](const Config& c) { return Value(c.threads); }, {}},
      {"scheduler.claim_lease", false, [](const Config& c) { return duration(c.claim_lease); }, {}},
      {"rules.on_change", true, [](const Config& c) { return Value(c.rules_on_change); },
       [](Config& r, const Config& l) { r.rules_on_change = l.rules_on_change; }},
      {"console.enabled", false, [](const Config& c) { return Value(c.console.enabled); }, {}},
      {"console.tokens", false, [](const Config& c) { return Value(c.console.tokens); }, {}},
      {"console.session_ttl", false, [](const Config& c) { return duration(c.console.session_ttl); }, {}},
      {"log.level", true, [](const Config& c) { return Value(c.log_level); },
       [](Config& r, const Config& l) { r.log_level = l.log_level; }},
      {"log.format", true, [](const Config& c) { return Value(c.log_format); },
       [](Config& r, const Config& l) { r.log_format = l.log_format; }},
      {"limits.max_file_bytes", true, [](const Config& c) { return Value(c.max_file_bytes); },
       [](Config& r, const Config& l) { r.max_file_bytes = l.max_file_bytes; }},
      {"limits.max_future_days", true, [](const Config& c) { return Value(c.max_future_days); },
       [](Config& r, const Config& l) { r.max_future_days = l.max_future_days; }},
      {"limits.database_cache", false, [](const Config& c) { return Value(c.database_cache); }, {}},
      {"retention.days", true, [](const Config& c) { return Value(c.retention_days); },
       [](Config& r, const Config& l) { r.retention_days = l.retention_days; }},
      {"retry.max_attempts", true, [](const Config& c) { return Value(c.max_attempts); },
       [](Config& r, const Config& l) { r.max_attempts = l.max_attempts; }},
      {"retry.base", true, [](const Config& c) { return duration(c.retry_base); },
       [](Config& r, const Config& l) { r.retry_base = l.retry_base; }},
      {"retry.max", true, [](const Config& c) { return duration(c.retry_max); },
       [](Config& r, const Config& l) { r.retry_max = l.retry_max; }},
      {"notify.webhook", true, [](const Config& c) { return Value(c.notify_webhook); },
       [](Config& r, const Config& l) { r.notify_webhook = l.notify_webhook; },
       [](const Config& c) { return webhook_origin(c.notify_webhook); }},
      {"breaker.window", true, [](const Config& c) { return Value(c.breaker.window); },
       [](Config& r, const Config& l) { r.breaker.window = l.breaker.window; }},
      {"breaker.failure_ratio", true, [](const Config& c) { return Value(c.breaker.failure_ratio); },
       [](Config& r, const Config& l) { r.breaker.failure_ratio = l.breaker.failure_ratio; }},
      {"breaker.min_calls", true, [](const Config& c) { return Value(c.breaker.min_calls); },
       [](Config& r, const Config& l) { r.breaker.min_calls = l.breaker.min_calls; }},
      {"breaker.cooldown", true, [](const Config& c) { return duration(c.breaker.cooldown); },
       [](Config& r, const Config& l) { r.breaker.cooldown = l.breaker.cooldown; }},
      {"zoom.call_deadline", false, [](const Config& c) { return duration(c.zoom_call_deadline); }, {}},
      {"zoom.max_answer_bytes", false, [](const Config& c) { return Value(c.zoom_max_answer_bytes); }, {}},
      {"zoom.create_missing_groups", false,
       [](const Config& c) {
         return c.zoom_create_missing_groups_all ? Value(true) : Value(c.zoom_create_missing_groups);
       },
       {}},
      {"breaker.max_cooldown", true, [](const Config& c) { return duration(c.breaker.max_cooldown); },
       [](Config& r, const Config& l) { r.breaker.max_cooldown = l.breaker.max_cooldown; }},
  };
  return table;
}

std::string shown(const KeySpec& spec, const Config& c) { return spec.shown ? spec.shown(c) : text_of(spec.value(c)); }

} // namespace

std::vector<ConfigChange> diff_config(const Config& running, const Config& loaded) {
  std::vector<ConfigChange> out;
  for (const auto& spec : key_table())
    if (spec.value(running) != spec.value(loaded))
      out.push_back({spec.key, shown(spec, running), shown(spec, loaded), spec.live});
  return out;
}

void adopt_live_keys(Config& running, const Config& loaded) {
  for (const auto& spec : key_table())
    if (spec.live) spec.adopt(running, loaded);
}

nlohmann::json live_values(const Config& config) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& spec : key_table())
    if (spec.live) out[spec.key] = spec.shown ? Value(spec.shown(config)) : spec.value(config);
  return out;
}

bool is_live_key(const std::string& key) {
  for (const auto& spec : key_table())
    if (key == spec.key) return spec.live;
  return false;
}

} // namespace h2r
