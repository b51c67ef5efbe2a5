// The console's read-only API: status, events (paginated, filtered), one event with its history,
// inbox files with their rejection reports, one employee, connections.
#include "console/console_server.hpp"

#include "core/time.hpp"
#include "core/utf8.hpp"
#include "views/views.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace h2r {
namespace {

constexpr std::size_t k_max_param_bytes = 256;
constexpr int k_max_page = 500;
constexpr int k_max_offset = 100000;
constexpr int k_max_files = 200;
constexpr std::size_t k_max_report_bytes = 16 * 1024;

struct BadRequest {
  std::string message;
};

// The query's parameters, each at most once, each one of `allowed`, each 1..k_max_param_bytes.
std::map<std::string, std::string> params_of(const httplib::Request& req, std::initializer_list<std::string_view> allowed) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : req.params) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      throw BadRequest{fmt::format("unknown parameter '{}' (known: {})", k.substr(0, 40), fmt::join(allowed, ", "))};
    if (out.count(k)) throw BadRequest{"parameter '" + k + "' given twice"};
    if (v.empty() || v.size() > k_max_param_bytes)
      throw BadRequest{fmt::format("parameter '{}': give 1 to {} bytes", k, k_max_param_bytes)};
    out[k] = v;
  }
  return out;
}

long long number_param(const std::map<std::string, std::string>& p, const std::string& key, long long def, long long min,
                       long long max) {
  auto it = p.find(key);
  if (it == p.end()) return def;
  char* end = nullptr;
  long long n = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0' || n < min || n > max)
    throw BadRequest{fmt::format("parameter '{}': '{}' is not a number from {} to {}", key, it->second, min, max)};
  return n;
}

EventFilter event_filter(const std::map<std::string, std::string>& p, const std::string& time_zone) {
  EventFilter filter;
  if (auto it = p.find("state"); it != p.end()) {
    filter.state = parse_event_state(it->second);
    if (!filter.state) throw BadRequest{"state: '" + it->second + "' is not one of pending waiting held done skipped failed rejected"};
  }
  if (auto it = p.find("type"); it != p.end()) {
    filter.type = parse_event_type(it->second);
    if (!filter.type) throw BadRequest{"type: '" + it->second + "' is not one of hire update leave return terminate rehire"};
  }
  if (auto it = p.find("employee"); it != p.end()) filter.employee_id = it->second;
  if (auto it = p.find("file"); it != p.end()) filter.source_file = it->second;
  for (const char* name : {"since", "until"}) {
    auto it = p.find(name);
    if (it == p.end()) continue;
    auto at = parse_effective_date(it->second, time_zone);
    if (!at)
      throw BadRequest{fmt::format("{}: {} (YYYY-MM-DD in the time zone {}, or a date-time with Z or an offset)", name,
                                   at.error().message, time_zone)};
    const bool date_only = it->second.find('T') == std::string::npos;
    if (std::string_view(name) == "since") filter.effective_from_ms = to_unix_ms(*at);
    else filter.effective_before_ms = to_unix_ms(date_only ? minus_days_in_zone(*at, -1, time_zone) : *at);
  }
  return filter;
}

long long path_id(const httplib::Request& req) {
  const std::string text = req.matches[1];
  if (text.empty() || text.size() > 18) throw BadRequest{"the event id is a positive number"};
  return std::stoll(text);
}

template <typename T> T value_or_throw(Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

// A connection's last error is text from Zoom's answers (scrubbed of its secrets, zoom_errors.hpp):
// shown only to roles that may test connections (reviewer); a viewer sees that there is one.
constexpr const char* k_error_hidden = "(an error: shown to the reviewer role)";

bool may_test(const ConsolePrincipal& who) { return who.role == ConsoleRole::reviewer; }

// /api/v1/status for `who`: the connections' last errors hidden from a viewer.
void hide_connection_errors(nlohmann::json& status) {
  for (auto& c : status["connections"])
    if (c.contains("last_error") && !c["last_error"].is_null()) c["last_error"] = k_error_hidden;
  for (auto& item : status["attention"])
    if (item.value("kind", "") == "connection_unhealthy")
      item["message"] = "connection " + item.value("connection", "") + " is UNHEALTHY " + k_error_hidden;
}

nlohmann::json connection_json(Store& store, const ConnectionRow& c, const ConsolePrincipal& who) {
  nlohmann::json j = {{"name", c.name}, {"account_id", c.account_id}, {"client_id", c.client_id},
                      {"api_url", c.api_url}, {"oauth_url", c.oauth_url}, {"rate_limit", c.rate_limit},
                      {"created", time_json(c.created_at_ms)}, {"updated", time_json(c.updated_at_ms)},
                      {"healthy", nullptr}, {"last_success", nullptr}, {"last_error", nullptr},
                      {"last_error_at", nullptr}, {"paused_until", nullptr}, {"pause_reason", nullptr}};
  auto h = store.get_connection_health(c.name);
  if (h && *h) {
    j["healthy"] = (*h)->healthy;
    j["last_success"] = time_json((*h)->last_success_at_ms);
    j["last_error"] = (*h)->last_error.empty() ? nlohmann::json()
                      : may_test(who)          ? nlohmann::json((*h)->last_error)
                                               : nlohmann::json(k_error_hidden);
    j["last_error_at"] = time_json((*h)->last_error_at_ms);
    j["paused_until"] = time_json((*h)->paused_until_ms);
    j["pause_reason"] = (*h)->pause_reason.empty() ? nlohmann::json() : nlohmann::json((*h)->pause_reason);
  }
  return j;
}

// Files in `dir` (regular, not hidden, not a report), newest first, at most k_max_files.
std::vector<std::filesystem::directory_entry> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::directory_entry> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || name.ends_with(".error.txt") || !it->is_regular_file(ec)) continue;
    out.push_back(*it);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    std::error_code e1, e2;
    return a.last_write_time(e1) > b.last_write_time(e2);
  });
  if (out.size() > static_cast<std::size_t>(k_max_files)) out.resize(k_max_files);
  return out;
}

std::string read_prefix(const std::filesystem::path& file, std::size_t max) {
  std::ifstream in(file, std::ios::binary);
  std::string text(max, '\0');
  in.read(text.data(), static_cast<std::streamsize>(max));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

} // namespace

void Console::install_read_routes(httplib::Server& server) {
  // Each handler: authenticate, validate every parameter (400 naming it), read, answer.
  auto route = [this](auto body) {
    return [this, body](const httplib::Request& req, httplib::Response& res) {
      auto who = require(req, res, false);
      if (!who) return;
      try {
        body(req, res, *who);
      } catch (const BadRequest& e) {
        console_error(res, 400, e.message);
      } catch (const std::exception& e) {
        console_error(res, 500, std::string("cannot read the store: ") + e.what());
      }
    };
  };
  server.Get("/api/v1/status", route([this](const httplib::Request& req, httplib::Response& res, const ConsolePrincipal& who) {
    params_of(req, {});
    auto out = value_or_throw(status_json(m_store, m_config, now_ms()));
    out["timezone"] = m_config.timezone;
    out["console"] = {{"name", who.name}, {"role", to_string(who.role)}};
    if (!may_test(who)) hide_connection_errors(out);
    console_json(res, out);
  }));
  server.Get("/api/v1/events", route([this](const httplib::Request& req, httplib::Response& res, const ConsolePrincipal&) {
    auto p = params_of(req, {"state", "type", "employee", "file", "since", "until", "limit", "offset"});
    EventFilter filter = event_filter(p, m_config.timezone);
    const long long limit = number_param(p, "limit", 100, 1, k_max_page);
    const long long offset = number_param(p, "offset", 0, 0, k_max_offset);
    filter.limit = static_cast<int>(offset + limit + 1);
    auto rows = value_or_throw(m_store.list_events(filter));
    const long long now = now_ms();
    nlohmann::json events = nlohmann::json::array();
    EmployeeNames names(m_store);
    // The badge of what an event takes away follows the rules in force (lifecycle.terminate, .leave).
    const RulesPtr rules = m_engine.rules ? m_engine.rules() : nullptr;
    for (std::size_t i = static_cast<std::size_t>(offset); i < rows.size() && i < static_cast<std::size_t>(offset + limit); ++i) {
      const EventRow& e = rows[i];
      auto& j = events.emplace_back(event_json(e, false, now));
      j["name"] = names.of(e);
      j["title"] = names.title_of(e);
      j["effect"] = rules && !is_final(e.state) ? event_effect(e, rules->lifecycle()) : "";
    }
    console_json(res, {{"events", events}, {"offset", offset}, {"limit", limit},
                       {"more", rows.size() > static_cast<std::size_t>(offset + limit)}});
  }));
  server.Get(R"(/api/v1/events/(\d+))", route([this](const httplib::Request& req, httplib::Response& res, const ConsolePrincipal&) {
    params_of(req, {});
    const long long id = path_id(req);
    auto row = value_or_throw(m_store.get_event(id));
    if (!row) return console_error(res, 404, fmt::format("no event has the id {}", id));
    console_json(res, value_or_throw(event_detail_json(m_store, *row, now_ms())));
  }));
  // The chart of the day: per hour of the last 24 (UTC hours, oldest first), the events that ended in
  // each final state (the store's history, every daemon) and this daemon's SCIM calls and 429s.
  server.Get("/api/v1/activity", route([this](const httplib::Request& req, httplib::Response& res, const ConsolePrincipal&) {
    params_of(req, {});
    constexpr long long hour = 3'600'000;
    const long long now = now_ms();
    const long long first = now - now % hour - (static_cast<long long>(Metrics::k_hours_kept) - 1) * hour;
    nlohmann::json hours = nlohmann::json::array();
    for (long long h = first; h <= now; h += hour)
      hours.push_back({{"start", time_json(h)}, {"done", 0}, {"skipped", 0}, {"superseded", 0}, {"failed", 0}, {"rejected", 0},
                       {"calls", nullptr}, {"throttled", nullptr}});
    for (const auto& row : value_or_throw(m_store.outcomes_by_hour(first))) {
      const long long i = (row.hour_ms - first) / hour;
      if (i >= 0 && i < static_cast<long long>(hours.size())) hours[static_cast<std::size_t>(i)][std::string(to_string(row.state))] = row.count;
    }
    if (m_engine.metrics)
      for (const auto& c : m_engine.metrics->calls_by_hour(now)) {
        const long long i = (c.hour_ms - first) / hour;
        if (i < 0 || i >= static_cast<long long>(hours.size())) continue;
        hours[static_cast<std::size_t>(i)]["calls"] = c.calls;
        hours[static_cast<std::size_t>(i)]["throttled"] = c.throttled;
      }
    console_json(res, {{"hours", hours}, {"calls_known", m_engine.metrics != nullptr}});
  }));
  server.Get("/api/v1/connections", route([this](const httplib::Request& req, httplib::Response& res, const ConsolePrincipal& who) {
    params_of(req, {});
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : value_or_throw(m_store.list_connections())) out.push_back(connection_json(m_store, c, who));
    console_json(res, {{"connections", out}});
  }));
  server.Get("/api/v1/employees", route([this](const httplib::Request& req, httplib::Response& res, const ConsolePrincipal&) {
    auto p = params_of(req, {"q", "limit", "offset"});
    const std::string q = p.count("q") ? p["q"] : "";
    if (find_invalid_utf8(q) || std::any_of(q.begin(), q.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      throw BadRequest{"q: one line of UTF-8 text without control characters"};
    const long long limit = number_param(p, "limit", 50, 1, k_max_page);
    const long long offset = number_param(p, "offset", 0, 0, k_max_offset);
    console_json(res, value_or_throw(employee_search_json(m_store, q, static_cast<int>(limit), static_cast<int>(offset))));
  }));
  server.Get(R"(/api/v1/employees/([^/]+))", route([this](const httplib::Request& req, httplib::Response& res, const ConsolePrincipal&) {
    params_of(req, {});
    const std::string id = req.matches[1];   // httplib decoded the path once already
    if (id.empty() || id.size() > k_max_param_bytes) throw BadRequest{"the employee id is 1 to 256 bytes"};
    auto employee = value_or_throw(m_store.get_employee(id));
    nlohmann::json record = nullptr;
    if (employee)
      record = {{"employee_id", employee->employee_id}, {"status", to_string(employee->status)},
                {"record", employee->record}, {"updated", time_json(employee->updated_at_ms)}};
    nlohmann::json links = nlohmann::json::array();
    for (const auto& link : value_or_throw(links_of(m_store, id)))
      links.push_back({{"connection", link.connection}, {"zoom_user_id", link.zoom_user_id},
                       {"user_name", link.user_name}, {"active", link.active}, {"updated", time_json(link.updated_at_ms)}});
    EventFilter filter;
    filter.employee_id = id;
    filter.limit = 1000;
    nlohmann::json events = nlohmann::json::array();
    const long long now = now_ms();
    EmployeeNames names(m_store);
    for (const auto& e : value_or_throw(m_store.list_events(filter))) {
      auto& j = events.emplace_back(event_json(e, false, now));
      j["name"] = names.of(e);
      j["changes"] = event_changes_json(e);   // the timeline's diffs, inline
    }
    if (!employee && events.empty()) return console_error(res, 404, "h2r knows no employee with the id '" + id + "'");
    EventRow who;   // no event: the name of the last known record
    who.employee_id = id;
    console_json(res, {{"employee", record}, {"name", names.of(who)},
                       {"links", links}, {"events", events}});
  }));
  server.Get("/api/v1/files", route([this](const httplib::Request& req, httplib::Response& res, const ConsolePrincipal&) {
    params_of(req, {});
    // Counts by final state per source file, from the newest events.
    EventFilter filter;
    filter.limit = k_max_offset;
    std::map<std::string, std::map<std::string, long long>> counts;
    for (const auto& e : value_or_throw(m_store.list_events(filter))) {
      const std::string name = std::filesystem::path(e.source_file).filename().string();
      counts[name][std::string(to_string(e.state))]++;
    }
    nlohmann::json out = nlohmann::json::array();
    const std::filesystem::path inbox(m_config.inbox);
    for (const char* folder : {"processed", "rejected"}) {
      for (const auto& f : files_in(inbox / folder)) {
        std::error_code ec;
        const std::string name = f.path().filename().string();
        const auto mtime = std::chrono::file_clock::to_sys(f.last_write_time(ec));
        nlohmann::json j = {{"name", name}, {"folder", folder}, {"accepted", std::string_view(folder) == "processed"},
                            {"bytes", f.file_size(ec)},
                            {"modified", time_json(to_unix_ms(std::chrono::time_point_cast<std::chrono::milliseconds>(mtime)))},
                            {"events", counts.count(name) ? nlohmann::json(counts[name]) : nlohmann::json::object()},
                            {"report", nullptr}};
        if (std::string_view(folder) == "rejected") {
          auto report = f.path();
          report += ".error.txt";
          if (std::filesystem::is_regular_file(report, ec)) j["report"] = read_prefix(report, k_max_report_bytes);
        }
        out.push_back(j);
      }
    }
    console_json(res, {{"files", out}});
  }));
}

} // namespace h2r
