// h2rd plan FILE...: for these event files, the open events stored for the same employees and the
// current state, what `h2rd run` would do and when — asked of the engine (engine/dry_run.hpp): each
// event's due time, matched role and targets, holds, and every SCIM call with the attribute diff. Only
// lookups (GET) reach Zoom; nothing is written anywhere.
#include "core/time.hpp"
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "h2rd/cli/events_view.hpp"
#include "engine/connection_registry.hpp"
#include "engine/dry_run.hpp"
#include "engine/engine_config.hpp"
#include "hr/readers.hpp"
#include "rules/rules.hpp"
#include "rules/short_path.hpp"
#include "views/views.hpp"

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace h2r::cli {
namespace {

constexpr long long k_day_ms = 24 * 3600'000LL;

// "in 3 days", "in 5 hours", "in 12 minutes" (rounded up: never "in 0").
std::string due_in_text(long long ms) {
  auto unit = [](long long n, const char* one) { return "in " + std::to_string(n) + " " + one + (n == 1 ? "" : "s"); };
  if (ms >= k_day_ms) return unit((ms + k_day_ms - 1) / k_day_ms, "day");
  if (ms >= 3600'000) return unit((ms + 3600'000 - 1) / 3600'000, "hour");
  return unit(std::max(1LL, (ms + 60'000 - 1) / 60'000), "minute");
}

// Reads every file as the inbox would and schedules its events as ingest would; false (reported to
// stderr) when a file would be rejected.
bool read_files(const std::vector<std::string>& paths, const Context& ctx, const Rules& rules, SystemTime now,
                std::vector<EventRow>& events) {
  const ScheduleOptions schedule{ctx.config.timezone, ctx.config.max_future_days, rules.lifecycle().hire_lead_days};
  for (const auto& path : paths) {
    auto format = format_for_name(path);
    std::ifstream in(path, std::ios::binary);
    if (!format || !in) {
      print_error(path + ": " + (!in ? "cannot read the file" : "not an event file (" + std::string(accepted_extensions()) + ")"));
      return false;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    auto parsed = parse_event_file(*format, buf.str(), ctx.config.inbox_dates);
    if (!parsed.problems.empty()) {
      for (const auto& p : parsed.problems) std::cerr << path << ": " << p.to_string() << "\n";
      return false;
    }
    for (const auto& note : parsed.notes) std::cerr << path << ": note: " << note << "\n";
    for (const auto& e : parsed.events) {
      auto row = schedule_event(e, schedule, now);
      if (!row) {   // the same sentence as the inbox's rejection
        print_error(path + ": " + row.error().message + " (the inbox would reject this file)");
        return false;
      }
      events.push_back(event_row(*row, 0, path));
    }
  }
  return true;
}

void print_planned(const PlannedEvent& p, const nlohmann::json& item, long long now_ms) {
  std::cout << item["event_id"].get<std::string>() << " (" << item["type"].get<std::string>() << " "
            << item["employee_id"].get<std::string>() << ", effective " << json_text(item["effective"]);
  if (item["source"] == "queued") std::cout << ", queued as " << item["id"].dump() << ", " << item["state"].get<std::string>();
  std::cout << ")\n";
  if (item["due_now"].get<bool>()) {
    std::cout << "  due: now\n";
  } else if (!item["blocked_by"].is_null()) {
    std::cout << "  due: after " << item["blocked_by"].get<std::string>() << " of the same employee, which is held"
              << " — not due yet\n";
  } else if (p.runs_at_ms) {
    std::cout << "  due: " << time_text(*p.runs_at_ms);
    if (*p.runs_at_ms > now_ms) std::cout << ", " << due_in_text(*p.runs_at_ms - now_ms);
    if (!item["due_why"].is_null()) std::cout << " (" << item["due_why"].get<std::string>() << ")";
    std::cout << (item["hold"].is_null() ? " — not due yet\n" : "\n");
  }
  for (const auto& t : item["targets"])
    std::cout << "  role: " << (t["role"].is_null() ? "none (" + t["intent"].get<std::string>() + ")" : t["role"].get<std::string>())
              << " in " << t["connection"].get<std::string>() << "\n";
  print_planned_calls(std::cout, item);
}

// Why `h2rd run` would not call this connection now ("" when it would): a pause (rate limit, circuit
// breaker) still running, or the connection marked unhealthy. Stored health, as `status` shows it.
std::string deferral(Store& store, const std::string& connection, long long now_ms) {
  auto health = store.get_connection_health(connection);
  if (!health || !*health) return "";
  const auto& h = **health;
  if (h.paused_until_ms > now_ms)
    return "connection " + connection + " is paused until " + time_text(h.paused_until_ms) +
           (h.pause_reason.empty() ? "" : " (" + h.pause_reason + ")") + ": `h2rd run` waits until then";
  if (!h.healthy)
    return "connection " + connection + " is unhealthy (" + h.last_error +
           "): `h2rd run` defers its events until a check succeeds";
  return "";
}

} // namespace

int cmd_plan(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("plan", words, parse_code);
  if (!args) return parse_code;
  if (args->value("--rules")) return cmd_plan_rules(config_path, *args);
  if (args->positional.empty()) {
    print_error("usage: h2rd plan FILE... (see `h2rd plan --help`)");
    return k_exit_usage;
  }
  int code = k_exit_ok;
  auto engine = open_engine_context(config_path, code);
  if (!engine) return code;
  const Context* ctx = &engine->ctx;
  const RulesPtr& rules = engine->rules;
  const SystemTime now = SystemClock::instance().now();
  const long long now_ms = to_unix_ms(now);
  // Read every file first: a bad one stops the plan before anything is looked up.
  std::vector<EventRow> events;
  if (!read_files(args->positional, *ctx, *rules, now, events)) return k_exit_failed;

  auto planned = DryRun(*ctx->store, *engine->connections, *rules, now).run(std::move(events));
  if (!planned) {
    print_error("cannot read the stored state: " + planned.error().message);
    return k_exit_failed;
  }
  nlohmann::json out = nlohmann::json::array();
  bool failed = false;
  std::map<std::string, std::string> deferred;   // connection → why run would wait ("" = it would not)
  for (const auto& p : *planned) {
    auto item = planned_json(p, now_ms);
    for (auto& a : item["actions"]) {
      const auto connection = a.value("connection", std::string());
      if (!deferred.count(connection)) deferred[connection] = deferral(*ctx->store, connection, now_ms);
      if (!deferred[connection].empty()) a["deferred"] = deferred[connection];
    }
    out.push_back(std::move(item));
    failed = failed || p.failed;
  }
  if (args->has("--json")) {
    print_json(out);
    return failed ? k_exit_failed : k_exit_ok;
  }
  int due_now = 0, later = 0, held = 0;
  for (std::size_t i = 0; i < planned->size(); ++i) {
    const PlannedEvent& p = (*planned)[i];
    print_planned(p, out[i], now_ms);
    if (!p.hold.empty()) ++held;
    else if (p.due_now(now_ms)) ++due_now;
    else ++later;
  }
  std::cout << "plan: " << planned->size() << " event(s): " << due_now << " due now, " << later << " not due yet, " << held
            << " held\n";
  for (const auto& [connection, why] : deferred)
    if (!why.empty()) std::cout << "note: " << why << "\n";
  return failed ? k_exit_failed : k_exit_ok;
}

} // namespace h2r::cli
