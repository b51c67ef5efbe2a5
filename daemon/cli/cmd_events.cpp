// h2rd events list|show|retry|approve|reject
#include "daemon/cli/commands.hpp"
#include "core/clock.hpp"
#include "daemon/cli/context.hpp"

#include <iomanip>
#include <iostream>

namespace h2r::cli {
namespace {

nlohmann::json event_json(const EventRow& e, bool full) {
  nlohmann::json j = {{"id", e.id},
                      {"event_id", e.event_id},
                      {"type", to_string(e.type)},
                      {"employee_id", e.employee_id},
                      {"state", to_string(e.state)},
                      {"reason", e.reason},
                      {"effective", time_text(e.effective_at_ms)},
                      {"attempts", e.attempts}};
  if (e.leave_type) j["leave_type"] = to_string(*e.leave_type);
  if (full) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& [k, v] : e.fields) fields[k] = v ? nlohmann::json(*v) : nlohmann::json();
    j["fields"] = fields;
    j["effective_raw"] = e.effective_raw;
    j["due"] = time_text(e.due_at_ms);
    j["source_file"] = e.source_file;
    j["approved"] = e.approved;
    j["rules_version"] = e.rules_version;
    j["result"] = e.result.empty() ? nlohmann::json() : nlohmann::json::parse(e.result, nullptr, false);
    j["received"] = time_text(e.received_at_ms);
    j["updated"] = time_text(e.updated_at_ms);
    if (!e.claim_token.empty())   // in flight (or left by a process that ended): who has it, until when
      j["claim"] = {{"owner", e.claim_owner}, {"claimed", time_text(e.claimed_at_ms)}, {"lease_until", time_text(e.lease_until_ms)}};
  }
  return j;
}

std::optional<long long> parse_id(const std::string& text) {
  char* end = nullptr;
  long long id = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || id <= 0) return std::nullopt;
  return id;
}

} // namespace

int cmd_events(const std::string& config_path, const Words& words) {
  std::string error;
  auto args = parse_args(words, {"--state", "--employee", "--limit"}, {"--json", "--failed", "--all"}, error);
  if (!args || args->positional.empty()) {
    print_error(args ? "usage: h2rd events list|show|retry|approve|reject ..." : error);
    return k_exit_usage;
  }
  const std::string sub = args->positional[0];
  const bool json = args->has("--json");
  EventFilter filter;
  if (auto s = args->value("--state")) {
    filter.state = parse_event_state(*s);
    if (!filter.state) {
      print_error("--state: '" + *s + "' is not one of pending waiting done skipped failed held rejected");
      return k_exit_usage;
    }
  }
  if (auto e = args->value("--employee")) filter.employee_id = *e;
  if (auto l = args->value("--limit")) {
    auto n = parse_id(*l);
    if (!n) {
      print_error("--limit: '" + *l + "' is not a positive number");
      return k_exit_usage;
    }
    filter.limit = static_cast<int>(*n);
  }
  std::optional<long long> id;
  const bool bulk = (sub == "retry" && args->has("--failed")) || (sub == "approve" && args->has("--all"));
  if (sub == "show" || sub == "reject" || ((sub == "retry" || sub == "approve") && !bulk)) {
    if (args->positional.size() != 2 || !(id = parse_id(args->positional[1]))) {
      print_error("usage: h2rd events " + sub + " ID" +
                  (sub == "retry" ? " | --failed" : sub == "approve" ? " | --all" : ""));
      return k_exit_usage;
    }
  } else if (sub != "list" && !bulk) {
    print_error("unknown events command '" + sub + "'");
    return k_exit_usage;
  }

  int code = k_exit_ok;
  auto ctx = open_context(config_path, code);
  if (!ctx) return code;
  Store& store = *ctx->store;
  const long long now = to_unix_ms(SystemClock::instance().now());

  if (sub == "list") {
    auto rows = store.list_events(filter);
    if (!rows) {
      print_error(rows.error().message);
      return k_exit_failed;
    }
    if (json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& e : *rows) out.push_back(event_json(e, false));
      print_json(out);
      return k_exit_ok;
    }
    std::cout << std::left << std::setw(7) << "ID" << std::setw(22) << "EVENT" << std::setw(10) << "TYPE"
              << std::setw(12) << "EMPLOYEE" << std::setw(9) << "STATE" << "REASON\n";
    for (const auto& e : *rows)
      std::cout << std::left << std::setw(7) << e.id << std::setw(22) << e.event_id << std::setw(10) << to_string(e.type)
                << std::setw(12) << e.employee_id << std::setw(9) << to_string(e.state) << e.reason << "\n";
    return k_exit_ok;
  }
  if (sub == "show") {
    auto row = store.get_event(*id);
    if (!row || !*row) {
      print_error(row ? "no event with id " + std::to_string(*id) : row.error().message);
      return k_exit_failed;
    }
    auto j = event_json(**row, true);
    if (json) {
      print_json(j);
    } else {
      for (auto it = j.begin(); it != j.end(); ++it)
        std::cout << it.key() << ": " << (it->is_string() ? it->get<std::string>() : it->dump()) << "\n";
    }
    return k_exit_ok;
  }
  Result<int> changed = 0;
  std::string what;
  if (sub == "retry") {
    changed = bulk ? store.retry_all_failed(now) : store.retry_event(*id, now);
    what = "queued again";
  } else if (sub == "approve") {
    changed = bulk ? store.approve_all_held(now) : store.approve_event(*id, now);
    what = "approved";
  } else {
    auto r = store.reject_event(*id, "rejected by an admin", now);
    if (!r) changed = unexpected(r.error());
    else changed = 1;
    what = "rejected";
  }
  if (!changed) {
    print_error(changed.error().message);
    return k_exit_failed;
  }
  if (json)
    print_json({{"changed", *changed}});
  else
    std::cout << *changed << " event" << (*changed == 1 ? "" : "s") << " " << what << "\n";
  return k_exit_ok;
}

} // namespace h2r::cli
