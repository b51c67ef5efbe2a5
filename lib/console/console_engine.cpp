// The console's questions to the engine:
//  - GET /api/v1/events/{id}/plan: what an open event would do now — the DryRun `h2rd plan` uses, over
//    the event's employee's open events; only GETs reach Zoom. A Zoom error is part of the answer.
//  - GET /api/v1/employees/{id}/provision: what provisioning that employee now would do and why
//    (lib/views/provision.hpp, as `h2rd provision ID`); POST (a reviewer) queues it, as `--apply`.
//  - GET /api/v1/employees/{id}/zoom: each linked Zoom user read now (GET /Users/{id}): active, type,
//    role, licenses, groups (when Zoom lists them on the user), title, department.
//  - GET /api/v1/drift[?connection=NAME]: `h2rd reconcile` (no --apply): every Zoom user of each
//    connection against what the rules say; POST /api/v1/drift/fix {"employee_ids": [...]} (a reviewer)
//    queues an on-demand event per employee (lib/views/provision.hpp), as one set for the guard.
//  - POST /api/v1/connections/{name}/test: `h2rd connection test NAME` (token + one list call), the
//    outcome recorded as the connection's health and logged with the actor console:<token name>.
// One at a time (a second answers 429), each bounded to one event or connection.
#include "console/console_server.hpp"

#include "core/text.hpp"
#include "engine/connection_probe.hpp"
#include "engine/dry_run.hpp"
#include "views/drift.hpp"
#include "views/provision.hpp"
#include "views/views.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

namespace h2r {
namespace {

// Open events of one employee a plan may look at: each may cost Zoom lookups.
constexpr int k_max_plan_events = 50;
constexpr std::size_t k_max_name_bytes = 256;
// Employees one "fix all" may queue (a larger drift: `h2rd reconcile --apply`, or several fixes).
constexpr std::size_t k_max_fix_employees = 1'000;

} // namespace

void Console::install_engine_routes(httplib::Server& server) {
  server.Get(R"(/api/v1/events/(\d+)/plan)", [this](const httplib::Request& req, httplib::Response& res) { plan(req, res); });
  server.Get(R"(/api/v1/employees/([^/]+)/provision)",
             [this](const httplib::Request& req, httplib::Response& res) { provision(req, res, false); });
  server.Post(R"(/api/v1/employees/([^/]+)/provision)",
              [this](const httplib::Request& req, httplib::Response& res) { provision(req, res, true); });
  server.Get(R"(/api/v1/employees/([^/]+)/zoom)",
             [this](const httplib::Request& req, httplib::Response& res) { zoom_state(req, res); });
  server.Get("/api/v1/drift", [this](const httplib::Request& req, httplib::Response& res) { drift(req, res); });
  server.Post("/api/v1/drift/fix", [this](const httplib::Request& req, httplib::Response& res) { fix_drift(req, res); });
  server.Post(R"(/api/v1/connections/([^/]+)/test)",
              [this](const httplib::Request& req, httplib::Response& res) { test_connection(req, res); });
}

// Bounded: a plan plays the employee's open events in order, each may look users up in Zoom. False
// (answered 422 or 500) when the employee has more than k_max_plan_events.
bool Console::plan_bounded(httplib::Response& res, const std::string& employee_id) {
  int open = 0;
  for (EventState s : {EventState::pending, EventState::waiting, EventState::held}) {
    EventFilter filter;
    filter.state = s;
    filter.employee_id = employee_id;
    filter.limit = k_max_plan_events + 1;
    auto rows = m_store.list_events(filter);
    if (!rows) {
      console_error(res, 500, "cannot read the store: " + rows.error().message);
      return false;
    }
    open += static_cast<int>(rows->size());
  }
  if (open <= k_max_plan_events) return true;
  console_error(res, 422, fmt::format("employee {} has more than {} open events: use `h2rd plan` on the server", employee_id,
                                      k_max_plan_events));
  return false;
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
  if (!plan_bounded(res, (*event)->employee_id)) return;
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

void Console::provision(const httplib::Request& req, httplib::Response& res, bool apply) {
  auto who = require(req, res, apply);
  if (!who) return;
  if (!req.params.empty()) return console_error(res, 400, "this endpoint takes no parameters");
  // apply: {"expect_type": "update"|"terminate"}, the kind of event the preview showed; another one
  // now (the employee's status or the rules changed meanwhile) is refused, nothing queued.
  std::string expect_type;
  if (apply && !req.body.empty()) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    const bool ok = body.is_object() && (body.empty() || (body.size() == 1 && body.contains("expect_type") &&
                                                         body["expect_type"].is_string()));
    if (!ok) return console_error(res, 400, "the body must be {} or {\"expect_type\": \"update\" or \"terminate\"}");
    if (!body.empty()) expect_type = body["expect_type"].get<std::string>();
    if (!expect_type.empty() && expect_type != "update" && expect_type != "terminate")
      return console_error(res, 400, "expect_type: \"update\" or \"terminate\"");
  }
  const std::string id = req.matches[1];   // httplib decoded the path once already
  if (id.empty() || id.size() > k_max_name_bytes) return console_error(res, 400, "the employee id is 1 to 256 bytes");
  RulesPtr rules = m_engine.rules ? m_engine.rules() : nullptr;
  if (!m_engine.connections || !rules)
    return console_error(res, 503, "provisioning on demand is not available: the daemon has no rules in force");
  if (!m_engine_mutex.try_lock()) {
    res.set_header("Retry-After", "1");
    return console_error(res, 429, "another plan, preview or connection test is running; try again in a second");
  }
  MutexLock busy(m_engine_mutex, k_adopt_lock);
  if (!plan_bounded(res, id)) return;
  auto preview = preview_provision(m_store, *m_engine.connections, *rules, m_config, id, m_clock.now());
  if (!preview) return console_error(res, preview.error().kind == ErrorKind::not_found ? 404 : 500, preview.error().message);
  auto out = provision_json(*preview, rules->version(), now_ms());
  const std::string type(to_string(preview->event.event.type));
  if (apply && !expect_type.empty() && expect_type != type)
    return console_error(res, 409, "the employee's on-demand event is now a " + type + ", not the " + expect_type +
                                       " the preview showed (their status changed): nothing was queued; preview again");
  if (apply) {
    MutexLock lock(m_action_mutex);   // the store's actor is the console's, one action at a time
    const std::string actor = "console:" + who->name;
    auto queued = queue_provision(m_store, *preview, actor, now_ms());
    if (!queued) return console_error(res, 500, "cannot queue the on-demand event: " + queued.error().message);
    out["queued"] = {{"id", *queued}, {"event_id", preview->event.event.event_id}};
    spdlog::info("console.provision actor=\"{}\" employee=\"{}\" event={}", escape_for_log(actor), escape_for_log(id), *queued);
  }
  console_json(res, out);
}

namespace {

// What the Employee page shows of a Zoom user as Zoom has it: the fields people ask about, not the body.
// A member of `object` when it is a string, else "" (JSON); never get<>() on what Zoom sent.
nlohmann::json text_of(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? *it : nlohmann::json("");
}

nlohmann::json live_user(const ScimUser& user) {
  const nlohmann::json b = user.body.is_object() ? user.body : nlohmann::json::object();
  nlohmann::json out = {{"active", user.active}, {"user_name", user.user_name}, {"user_type", text_of(b, "userType")},
                        {"display_name", text_of(b, "displayName")}, {"title", text_of(b, "title")},
                        {"role", nullptr}, {"licenses", nlohmann::json::object()}, {"groups", nlohmann::json::array()},
                        {"department", nullptr}};
  if (auto roles = b.find("roles"); roles != b.end() && roles->is_array() && !roles->empty())
    out["role"] = text_of(roles->front(), "value");
  if (auto e = b.find(k_scim_enterprise_urn); e != b.end() && e->is_object())
    out["department"] = text_of(*e, "department");
  if (auto z = b.find(k_zoom_license_urn); z != b.end() && z->is_object())
    for (const auto& [k, v] : z->items())
      if (v.is_boolean()) out["licenses"][k] = v;
  if (auto groups = b.find("groups"); groups != b.end() && groups->is_array())
    for (const auto& g : *groups)
      if (auto d = text_of(g, "display"); !d.get_ref<const std::string&>().empty()) out["groups"].push_back(d);
  return out;
}

} // namespace

void Console::zoom_state(const httplib::Request& req, httplib::Response& res) {
  auto who = require(req, res, false);
  if (!who) return;
  if (!req.params.empty()) return console_error(res, 400, "this endpoint takes no parameters");
  const std::string id = req.matches[1];   // httplib decoded the path once already
  if (id.empty() || id.size() > k_max_name_bytes) return console_error(res, 400, "the employee id is 1 to 256 bytes");
  if (!m_engine.connections) return console_error(res, 503, "Zoom cannot be read here: the daemon's connections are not available");
  auto links = links_of(m_store, id);
  if (!links) return console_error(res, 500, "cannot read the store: " + links.error().message);
  if (!m_engine_mutex.try_lock()) {
    res.set_header("Retry-After", "1");
    return console_error(res, 429, "another plan, preview, drift check or connection test is running; try again in a second");
  }
  MutexLock busy(m_engine_mutex, k_adopt_lock);
  nlohmann::json users = nlohmann::json::array();
  for (const auto& link : *links) {
    nlohmann::json item = {{"connection", link.connection}, {"zoom_user_id", link.zoom_user_id}};
    auto client = m_engine.connections->client(link.connection);
    auto user = client ? (*client)->get_user(link.zoom_user_id) : Result<ScimUser>(unexpected(client.error()));
    if (user) item["zoom"] = live_user(*user);
    else if (user.error().kind == ErrorKind::not_found) item["error"] = "Zoom has no such user any more";
    // Zoom's error text goes to the reviewer role only, as the connections' last_error does.
    else item["error"] = who->role == ConsoleRole::reviewer ? user.error().message : "(an error: shown to the reviewer role)";
    users.push_back(std::move(item));
  }
  console_json(res, {{"employee_id", id}, {"users", users}, {"read_at", time_json(now_ms())}});
}

void Console::drift(const httplib::Request& req, httplib::Response& res) {
  // A reviewer's: it reads every Zoom user of each connection on the daemon's own rate limit and daily
  // quota, and holds the engine's questions (plans, previews, tests) until it is done. A GET: no CSRF
  // token, the role is checked here.
  auto who = require(req, res, false);
  if (!who) return;
  if (who->role != ConsoleRole::reviewer)
    return console_error(res, 403, "the token '" + who->name + "' is a viewer: only a reviewer may look for drift (it reads "
                                   "every Zoom user on the daemon's rate limit); `h2rd reconcile` on the server does too");
  std::optional<std::string> only;
  for (const auto& [k, v] : req.params) {
    if (k != "connection" || only || v.empty() || v.size() > k_max_name_bytes)
      return console_error(res, 400, "the only parameter is connection=NAME (1 to 256 bytes), once");
    only = v;
  }
  RulesPtr rules = m_engine.rules ? m_engine.rules() : nullptr;
  if (!m_engine.connections || !rules) return console_error(res, 503, "drift is not available: the daemon has no rules in force");
  if (!m_engine_mutex.try_lock()) {
    res.set_header("Retry-After", "1");
    return console_error(res, 429, "another plan, preview, drift check or connection test is running; try again in a second");
  }
  MutexLock busy(m_engine_mutex, k_adopt_lock);
  auto report = reconcile(m_store, *m_engine.connections, *rules, only, false, m_clock);
  if (!report) return console_error(res, report.error().kind == ErrorKind::not_found ? 404 : 502, "reconcile: " + report.error().message);
  console_json(res, reconcile_json(*report, false));
}

void Console::fix_drift(const httplib::Request& req, httplib::Response& res) {
  auto who = require(req, res, true);
  if (!who) return;
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || body.size() != 1 || !body.contains("employee_ids") || !body["employee_ids"].is_array() ||
      body["employee_ids"].empty() || body["employee_ids"].size() > k_max_fix_employees)
    return console_error(res, 400, fmt::format("give {{\"employee_ids\": [...]}}: 1 to {} employee ids", k_max_fix_employees));
  std::vector<std::string> ids;
  for (const auto& v : body["employee_ids"]) {
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > k_max_name_bytes)
      return console_error(res, 400, "employee_ids: each is a text of 1 to 256 bytes");
    if (std::find(ids.begin(), ids.end(), v.get<std::string>()) != ids.end())
      return console_error(res, 400, "employee_ids: '" + v.get<std::string>() + "' is named twice");
    ids.push_back(v.get<std::string>());
  }
  RulesPtr rules = m_engine.rules ? m_engine.rules() : nullptr;
  if (!rules) return console_error(res, 503, "fixing drift is not available: the daemon has no rules in force");
  std::vector<NewEvent> events;
  nlohmann::json skipped = nlohmann::json::array();
  const SystemTime now = m_clock.now();
  for (const auto& id : ids) {
    auto employee = m_store.get_employee(id);
    if (!employee) return console_error(res, 500, "cannot read the store: " + employee.error().message);
    if (!*employee) return console_error(res, 404, "h2r keeps no record of employee '" + id + "': nothing was queued");
    // On leave, an update changes nothing at Zoom (the leave decided): no event that would not fix it.
    if ((*employee)->status == HrStatus::on_leave) {
      skipped.push_back({{"employee_id", id}, {"why", "on leave: the leave decides their Zoom user"}});
      continue;
    }
    auto event = on_demand_event(**employee, *rules, m_config, now);
    if (!event) return console_error(res, 500, event.error().message);
    events.push_back(std::move(*event));
  }
  nlohmann::json out = nlohmann::json::array();
  if (!events.empty()) {
    MutexLock lock(m_action_mutex);   // the store's actor is the console's, one action at a time
    const std::string actor = "console:" + who->name;
    auto queued = queue_on_demand(m_store, events, actor, now_ms());
    if (!queued) return console_error(res, queued.error().kind == ErrorKind::conflict ? 409 : 500, queued.error().message);
    for (std::size_t i = 0; i < events.size(); ++i)
      out.push_back({{"employee_id", events[i].event.employee_id}, {"id", (*queued)[i]}, {"event_id", events[i].event.event_id}});
    spdlog::info("console.fix_drift actor=\"{}\" queued={} skipped={}", escape_for_log(actor), events.size(), skipped.size());
  }
  console_json(res, {{"queued", out}, {"skipped", skipped}});
}

void Console::test_connection(const httplib::Request& req, httplib::Response& res) {
  auto who = require(req, res, true);
  if (!who) return;
  if (!req.body.empty()) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.empty()) return console_error(res, 400, "the body must be empty or {}");
  }
  const std::string name = req.matches[1];   // httplib decoded the path once already
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
