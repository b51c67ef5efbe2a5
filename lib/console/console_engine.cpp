// The console's questions to the engine:
//  - GET /api/v1/events/{id}/plan: what an open event would do now — the DryRun `h2rd plan` uses, over
//    the event's employee's open events; only GETs reach Zoom. A Zoom error is part of the answer.
//  - POST /api/v1/connections/{name}/test: `h2rd connection test NAME` (token + one list call), the
//    outcome recorded as the connection's health and logged with the actor console:<token name>.
// One at a time (a second answers 429), each bounded to one event or connection.
#include "console/console_server.hpp"

#include "core/text.hpp"
#include "engine/connection_probe.hpp"
#include "engine/dry_run.hpp"
#include "views/views.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

namespace h2r {
namespace {

// Open events of one employee a plan may look at: each may cost Zoom lookups.
constexpr int k_max_plan_events = 50;
constexpr std::size_t k_max_name_bytes = 256;

} // namespace

void Console::install_engine_routes(httplib::Server& server) {
  server.Get(R"(/api/v1/events/(\d+)/plan)", [this](const httplib::Request& req, httplib::Response& res) { plan(req, res); });
  server.Post(R"(/api/v1/connections/([^/]+)/test)",
              [this](const httplib::Request& req, httplib::Response& res) { test_connection(req, res); });
}

void Console::plan(const httplib::Request& req, httplib::Response& res) {
  auto who = require(req, res, false);
  if (!who) return;
  if (!req.params.empty()) return console_error(res, 400, "this endpoint takes no parameters");
  const std::string text = req.matches[1];
  if (text.size() > 18) return console_error(res, 400, "the event id is a positive number");
  const long long id = std::stoll(text);
  RulesPtr rules = m_engine.rules ? m_engine.rules() : nullptr;
  if (!m_engine.connections || !rules)
    return console_error(res, 503, "planning is not available: the daemon has no rules in force");
  auto event = m_store.get_event(id);
  if (!event) return console_error(res, 500, "cannot read the store: " + event.error().message);
  if (!*event) return console_error(res, 404, fmt::format("no event has the id {}", id));
  const EventState state = (*event)->state;
  if (state != EventState::pending && state != EventState::waiting && state != EventState::held)
    return console_error(res, 409, fmt::format("event {} is {}: only an open event (pending, waiting, held) has a plan", id,
                                               to_string(state)));
  // Bounded: the plan plays the employee's open events in order, each may look users up in Zoom.
  int open = 0;
  for (EventState s : {EventState::pending, EventState::waiting, EventState::held}) {
    EventFilter filter;
    filter.state = s;
    filter.employee_id = (*event)->employee_id;
    filter.limit = k_max_plan_events + 1;
    auto rows = m_store.list_events(filter);
    if (!rows) return console_error(res, 500, "cannot read the store: " + rows.error().message);
    open += static_cast<int>(rows->size());
  }
  if (open > k_max_plan_events)
    return console_error(res, 422, fmt::format("employee {} has more than {} open events: use `h2rd plan` on the server",
                                               (*event)->employee_id, k_max_plan_events));
  if (!m_engine_mutex.try_lock()) {
    res.set_header("Retry-After", "1");
    return console_error(res, 429, "another plan or connection test is running; try again in a second");
  }
  MutexLock busy(m_engine_mutex, k_adopt_lock);
  auto planned = DryRun(m_store, *m_engine.connections, *rules, m_clock.now()).plan_stored(id);
  if (!planned) return console_error(res, 500, "cannot read the store: " + planned.error().message);
  if (!*planned) return console_error(res, 409, fmt::format("event {} is no longer open", id));
  auto out = planned_json(**planned, now_ms(), true);
  out["failed"] = (*planned)->failed;   // a target could not be planned: its action carries the error
  out["rules_version"] = rules->version();
  console_json(res, out);
}

void Console::test_connection(const httplib::Request& req, httplib::Response& res) {
  auto who = require(req, res, true);
  if (!who) return;
  if (!req.body.empty()) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.empty()) return console_error(res, 400, "the body must be empty or {}");
  }
  const std::string name = httplib::detail::decode_url(req.matches[1], false);
  if (name.empty() || name.size() > k_max_name_bytes) return console_error(res, 400, "the connection name is 1 to 256 bytes");
  if (!m_engine.connections || !m_engine.transport)
    return console_error(res, 503, "connection tests are not available here: use `h2rd connection test NAME`");
  if (!m_engine_mutex.try_lock()) {
    res.set_header("Retry-After", "1");
    return console_error(res, 429, "another plan or connection test is running; try again in a second");
  }
  MutexLock busy(m_engine_mutex, k_adopt_lock);
  auto report = test_stored_connection(m_store, m_engine.connections->box(), name, *m_engine.transport, m_clock);
  if (unknown_connection(report)) return console_error(res, 404, report.error().message);
  // The store has no history for connections: the log keeps who tested what.
  spdlog::info("console.connection_test actor=\"console:{}\" connection=\"{}\" ok={} error=\"{}\"", escape_for_log(who->name),
               escape_for_log(name), report.has_value(), report ? "" : escape_for_log(report.error().message));
  console_json(res, probe_json(name, report));
}

} // namespace h2r
