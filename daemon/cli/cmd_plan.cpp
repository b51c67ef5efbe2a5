// h2rd plan FILE...: for these event files and the current state, every SCIM call that would be made,
// with the attribute diff. Only lookups (GET) reach Zoom; nothing is written anywhere.
#include "core/logging.hpp"
#include "core/time.hpp"
#include "daemon/cli/commands.hpp"
#include "daemon/cli/context.hpp"
#include "engine/connection_registry.hpp"
#include "engine/planner.hpp"
#include "engine/provisioner.hpp"
#include "hr/readers.hpp"
#include "rules/rules.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

namespace h2r::cli {
namespace {

std::string value_text(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
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
  auto ctx = open_context(config_path, code);
  if (!ctx) return code;
  auto rules = load_rules_or_report(*ctx, code);
  if (!rules) return code;
  // Read every file first: a bad one stops the plan before anything is looked up.
  std::vector<EventRow> events;
  for (const auto& path : args->positional) {
    auto format = format_for_name(path);
    std::ifstream in(path, std::ios::binary);
    if (!format || !in) {
      print_error(path + ": " + (!in ? "cannot read the file" : "not an event file (" + std::string(accepted_extensions()) + ")"));
      return k_exit_failed;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    auto parsed = parse_event_file(*format, buf.str());
    if (!parsed.problems.empty()) {
      for (const auto& p : parsed.problems) std::cerr << path << ": " << p.to_string() << "\n";
      return k_exit_failed;
    }
    for (const auto& note : parsed.notes) std::cerr << path << ": note: " << note << "\n";
    for (auto& e : parsed.events) {
      EventRow row;
      row.id = static_cast<long long>(events.size()) + 1;
      row.event_id = e.event_id;
      row.type = e.type;
      row.leave_type = e.leave_type;
      row.employee_id = e.employee_id;
      row.fields = e.fields;
      row.effective_raw = e.effective_date;
      const SystemTime now = SystemClock::instance().now();
      auto at = e.effective_date.empty() ? Result<SystemTime>(now)
                                         : parse_effective_date(e.effective_date, ctx->config.timezone);
      Result<void> window = at ? check_effective_window(*at, now, ctx->config.max_future_days) : Result<void>{};
      if (!at || !window) {
        // The same sentence as the inbox's rejection: `run` would reject this file.
        const std::string why = !at ? at.error().message : "'" + e.effective_date + "' " + window.error().message;
        print_error(path + ": " + FileProblem{e.record, e.line, "effective_date", why}.to_string() +
                    " (the inbox would reject this file)");
        return k_exit_failed;
      }
      row.effective_at_ms = to_unix_ms(*at);
      row.source_file = path;
      events.push_back(std::move(row));
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const EventRow& a, const EventRow& b) { return a.effective_at_ms < b.effective_at_ms; });

  HttplibTransport transport;
  ConnectionRegistry registry(*ctx->store, *ctx->box, transport, SystemClock::instance());
  std::map<std::string, EmployeeRow> employees;                 // as they would be after each event
  std::map<std::pair<std::string, std::string>, LinkRow> links;  // (connection, employee)
  nlohmann::json out = nlohmann::json::array();
  bool failed = false;
  int deactivations = 0;
  for (const auto& event : events) {
    std::optional<EmployeeRow> before;
    if (auto it = employees.find(event.employee_id); it != employees.end()) before = it->second;
    else if (auto stored = ctx->store->get_employee(event.employee_id); stored && *stored) before = **stored;
    std::vector<LinkRow> employee_links;
    auto connections = ctx->store->list_connections();
    for (const auto& c : connections ? *connections : std::vector<ConnectionRow>{}) {
      if (auto it = links.find({c.name, event.employee_id}); it != links.end()) employee_links.push_back(it->second);
      else if (auto l = ctx->store->get_link(c.name, event.employee_id); l && *l) employee_links.push_back(**l);
    }
    EventPlan plan = plan_event(event, before, employee_links, *rules);
    nlohmann::json item = {{"event_id", event.event_id}, {"type", to_string(event.type)},
                           {"employee_id", event.employee_id}, {"effective", time_json(event.effective_at_ms)},
                           {"note", plan.note}, {"actions", nlohmann::json::array()}};
    if (rules->lifecycle().supervised.count(event.type))
      item["supervised"] = "lifecycle.supervised: `h2rd run` holds this event until `h2rd events approve`";
    item["deactivates"] = plan.deactivates();
    if (plan.deactivates()) ++deactivations;
    for (const auto& intent : plan.intents) {
      auto client = registry.client(intent.connection);
      if (!client) {
        item["actions"].push_back({{"connection", intent.connection}, {"error", client.error().message}});
        failed = true;
        continue;
      }
      Provisioner provisioner(**client, true, 0);
      auto report = provisioner.carry_out(intent, event.employee_id);
      if (!report) {
        item["actions"].push_back({{"connection", intent.connection}, {"error", report.error().message}});
        failed = true;
        continue;
      }
      item["actions"].push_back(report->to_json());
      LinkRow link = report->link.value_or(LinkRow{intent.connection, event.employee_id, report->user_id.empty() ? "(new)" : report->user_id,
                                                   report->user_name, "", true});
      if (report->remove_link) links.erase({intent.connection, event.employee_id});
      else if (report->action != "absent") links[{intent.connection, event.employee_id}] = link;
    }
    employees[event.employee_id] = plan.employee;
    out.push_back(item);
  }
  const int guard_max = rules->lifecycle().max_deactivations_per_cycle;
  const bool guarded = deactivations > guard_max;
  const std::string guard_note = std::to_string(deactivations) + " deactivations exceed lifecycle.guard."
                                 "max_deactivations_per_cycle (" + std::to_string(guard_max) +
                                 "): if they fall due in one cycle, all are held for `h2rd events approve --all`";
  if (args->has("--json")) {
    if (guarded)
      for (auto& item : out)
        if (item["deactivates"].get<bool>()) item["guard"] = guard_note;
    print_json(out);
    return failed ? k_exit_failed : k_exit_ok;
  }
  for (const auto& item : out) {
    std::cout << item["event_id"].get<std::string>() << " (" << item["type"].get<std::string>() << " "
              << item["employee_id"].get<std::string>() << ", effective " << item["effective"].get<std::string>() << ")\n";
    if (item.contains("supervised")) std::cout << "  held: " << item["supervised"].get<std::string>() << "\n";
    if (item["actions"].empty()) std::cout << "  nothing to do: " << item["note"].get<std::string>() << "\n";
    for (const auto& a : item["actions"]) {
      if (a.contains("error")) {
        std::cout << "  [" << a["connection"].get<std::string>() << "] cannot plan: " << a["error"].get<std::string>() << "\n";
        continue;
      }
      if (a["calls"].empty())
        std::cout << "  [" << a["connection"].get<std::string>() << "] no call: " << a["userName"].get<std::string>()
                  << " is " << a["action"].get<std::string>() << "\n";
      for (const auto& call : a["calls"]) {
        std::cout << "  [" << a["connection"].get<std::string>() << "] " << call["method"].get<std::string>() << " "
                  << call["path"].get<std::string>() << "  ("
                  << call["summary"].get<std::string>() << " " << a["userName"].get<std::string>() << ")\n";
        for (const auto& ch : call["changes"])
          std::cout << "      " << ch["path"].get<std::string>() << ": " << value_text(ch["before"]) << " → "
                    << value_text(ch["after"]) << "\n";
      }
    }
  }
  if (guarded) std::cout << "guard: " << guard_note << "\n";
  return failed ? k_exit_failed : k_exit_ok;
}

} // namespace h2r::cli
