// The console's actions: approve, reject, retry — one event, a selection, or all (approve: every held
// event; retry: every failed one) with the count the page showed. Each event changes through the same
// Store call the CLI makes for it (approve_event, reject_event, retry_event), with the actor
// "console:<token name>" in its history. A request is checked whole before anything changes: an unknown
// id (404), an event in a state the action does not apply to, or an `expect_count` that is not the
// number of events "all" means now (409) changes nothing.
#include "console/console_server.hpp"

#include "hr/text_checks.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <set>

namespace h2r {
namespace {

constexpr std::size_t k_max_ids = 1000;
constexpr long long k_max_expect = 1'000'000;
constexpr std::size_t k_max_reason = 500;

struct ActionRequest {
  std::vector<long long> ids;
  bool all = false;
  long long expect_count = -1;
  std::string reason = "rejected by an admin";
};

// The body as an ActionRequest, or the 400 message.
std::variant<ActionRequest, std::string> parse_action(const std::string& text, const std::string& verb) {
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (!body.is_object()) return std::string("the body must be a JSON object: {\"ids\": [..]} or {\"all\": true, \"expect_count\": N}");
  ActionRequest r;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "ids") {
      if (!v.is_array() || v.empty() || v.size() > k_max_ids)
        return fmt::format("ids: give a list of 1 to {} event ids", k_max_ids);
      std::set<long long> seen;
      for (const auto& id : v) {
        if (!id.is_number_integer() || id.get<long long>() < 1) return std::string("ids: each id is a positive whole number");
        if (!seen.insert(id.get<long long>()).second) return fmt::format("ids: {} is given twice", id.get<long long>());
        r.ids.push_back(id.get<long long>());
      }
    } else if (key == "all" && verb != "reject") {
      if (!v.is_boolean()) return std::string("all: true or false");
      r.all = v.get<bool>();
    } else if (key == "expect_count" && verb != "reject") {
      if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > k_max_expect)
        return fmt::format("expect_count: a whole number from 0 to {}", k_max_expect);
      r.expect_count = v.get<long long>();
    } else if (key == "reason" && verb == "reject") {
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > k_max_reason)
        return fmt::format("reason: give 1 to {} bytes of text", k_max_reason);
      r.reason = v.get<std::string>();
      if (hr_detail::find_invalid_utf8(r.reason) ||
          std::any_of(r.reason.begin(), r.reason.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
        return std::string("reason: one line of UTF-8 text without control characters");
    } else {
      return fmt::format("unknown field '{}' (known for {}: {})", key.substr(0, 40), verb,
                         verb == "reject" ? "ids, reason" : "ids, all, expect_count");
    }
  }
  if (r.all == !r.ids.empty()) return std::string("give either ids or all: true (with expect_count)");
  if (r.all && r.expect_count < 0)
    return std::string("all: true needs expect_count, the number of events the page showed, so that nothing that "
                       "arrived since is changed by accident");
  if (!r.all && r.expect_count >= 0) return std::string("expect_count goes with all: true");
  return r;
}

} // namespace

void Console::install_action_routes(httplib::Server& server) {
  for (const char* verb : {"approve", "reject", "retry"}) {
    const std::string v = verb;
    server.Post("/api/v1/events/" + v, [this, v](const httplib::Request& req, httplib::Response& res) { action(req, res, v); });
  }
}

void Console::action(const httplib::Request& req, httplib::Response& res, const std::string& verb) {
  auto who = require(req, res, true);
  if (!who) return;
  auto parsed = parse_action(req.body, verb);
  if (auto* message = std::get_if<std::string>(&parsed)) return console_error(res, 400, *message);
  const ActionRequest& r = std::get<ActionRequest>(parsed);

  MutexLock lock(m_action_mutex);
  std::vector<long long> ids = r.ids;
  if (r.all) {
    EventFilter filter;
    filter.state = verb == "approve" ? EventState::held : EventState::failed;
    filter.limit = static_cast<int>(k_max_expect) + 1;
    auto rows = m_store.list_events(filter);
    if (!rows) return console_error(res, 500, "cannot read the store: " + rows.error().message);
    if (static_cast<long long>(rows->size()) != r.expect_count) {
      return console_json(res, {{"error", fmt::format("{} events are {} now, not {}: nothing was changed (reload and look again)",
                                                      rows->size(), to_string(*filter.state), r.expect_count)},
                                {"count", rows->size()}}, 409);
    }
    ids.clear();
    for (const auto& e : *rows) ids.push_back(e.id);
  } else {
    std::vector<std::string> refusals;
    for (long long id : ids) {
      auto row = m_store.get_event(id);
      if (!row) return console_error(res, 500, "cannot read the store: " + row.error().message);
      if (!*row) return console_error(res, 404, fmt::format("no event has the id {}: nothing was changed", id));
      if (auto why = event_action_refusal(verb, **row); !why.empty()) refusals.push_back(why);
    }
    if (!refusals.empty())
      return console_json(res, {{"error", refusals.front() + (refusals.size() > 1 ? fmt::format(" (and {} more)", refusals.size() - 1) : "") +
                                              ": nothing was changed"},
                                {"refusals", refusals}}, 409);
  }
  m_store.set_actor("console:" + who->name);
  const long long now = now_ms();
  long long changed = 0;
  nlohmann::json errors = nlohmann::json::array();
  for (long long id : ids) {
    Result<int> one = 0;
    if (verb == "approve") one = m_store.approve_event(id, now);
    else if (verb == "retry") one = m_store.retry_event(id, now);
    else if (auto rejected = m_store.reject_event(id, r.reason, now); !rejected) one = unexpected(rejected.error());
    else one = 1;
    // Between the check and here the daemon or the CLI may have moved an event on: say which.
    if (!one) errors.push_back({{"id", id}, {"error", one.error().message}});
    else changed += *one;
  }
  console_json(res, {{"changed", changed}, {"ids", ids}, {"errors", errors}, {"actor", "console:" + who->name}});
}

} // namespace h2r
