// The console's actions: POST /api/v1/events/{approve,reject,retry} with ids, or with all: true and the
// count the page showed (narrowed by source_file, and for retry by reason_contains). The request is
// read and bounded here; what it selects and changes is views/event_actions.hpp, the same code
// `h2rd events` runs, with the actor "console:<token name>" in each event's history.
#include "console/console_server.hpp"

#include "hr/text_checks.hpp"
#include "views/event_actions.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <optional>
#include <set>

namespace h2r {
namespace {

constexpr std::size_t k_max_ids = 1000;
constexpr std::size_t k_max_reason = 500;

struct ActionRequest {
  EventSelection selection;
  std::string reason;   // reject: required, the reviewer's own words (issue 27)
};

// A selection's text field (source_file, reason_contains): one line of 1 to 256 bytes of UTF-8.
std::optional<std::string> selection_text(const nlohmann::json& v) {
  if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > k_max_selection_text)
    return std::nullopt;
  const std::string text = v.get<std::string>();
  if (hr_detail::find_invalid_utf8(text) ||
      std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return std::nullopt;
  return text;
}

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
        r.selection.ids.push_back(id.get<long long>());
      }
    } else if (key == "all") {
      if (!v.is_boolean()) return std::string("all: true or false");
      r.selection.all = v.get<bool>();
    } else if (key == "expect_count") {
      if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > k_max_selected_events)
        return fmt::format("expect_count: a whole number from 0 to {}", k_max_selected_events);
      r.selection.expect_count = v.get<long long>();
    } else if (key == "source_file") {
      auto file = selection_text(v);
      if (!file) return fmt::format("source_file: one line of 1 to {} bytes of UTF-8", k_max_selection_text);
      r.selection.source_file = *file;
    } else if (key == "pending" && verb == "retry") {
      if (!v.is_boolean()) return std::string("pending: true or false");
      r.selection.waiting_retries = v.get<bool>();
    } else if (key == "reason_contains" && verb == "retry") {
      auto part = selection_text(v);
      if (!part) return fmt::format("reason_contains: one line of 1 to {} bytes of UTF-8", k_max_selection_text);
      r.selection.reason_contains = *part;
    } else if (key == "reason" && verb == "reject") {
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > k_max_reason)
        return fmt::format("reason: give 1 to {} bytes of text", k_max_reason);
      r.reason = v.get<std::string>();
      if (hr_detail::find_invalid_utf8(r.reason) ||
          std::any_of(r.reason.begin(), r.reason.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
        return std::string("reason: one line of UTF-8 text without control characters");
    } else {
      return fmt::format("unknown field '{}' (known for {}: {})", key.substr(0, 40), verb,
                         verb == "reject"  ? "ids, all, expect_count, source_file, reason"
                         : verb == "retry" ? "ids, all, pending, expect_count, source_file, reason_contains"
                                           : "ids, all, expect_count, source_file");
    }
  }
  const EventSelection& sel = r.selection;
  if (sel.all == !sel.ids.empty()) return std::string("give either ids or all: true (with expect_count)");
  if (sel.all && sel.expect_count < 0)
    return std::string("all: true needs expect_count, the number of events the page showed, so that nothing that "
                       "arrived since is changed by accident");
  if (!sel.all && (sel.expect_count >= 0 || !sel.source_file.empty() || !sel.reason_contains.empty() || sel.waiting_retries))
    return std::string("expect_count, source_file, reason_contains and pending go with all: true");
  if (verb == "reject" && r.reason.empty())
    return std::string("reject needs a reason: a line that says why, kept in each event's history");
  if (sel.all && verb == "reject" && sel.source_file.empty())
    return std::string("reject with all: true needs source_file: the open events of one file, never every one");
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
  m_store.set_actor("console:" + who->name);
  const EventActionOutcome done = act_on_events(m_store, verb, r.selection, r.reason, now_ms());
  if (done.status != 200) {
    nlohmann::json body = {{"error", done.error}};
    if (done.count >= 0) body["count"] = done.count;
    if (!done.refusals.empty()) body["refusals"] = done.refusals;
    return console_json(res, body, done.status);
  }
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& [id, message] : done.errors) errors.push_back({{"id", id}, {"error", message}});
  console_json(res, {{"changed", done.changed}, {"ids", done.ids}, {"errors", errors}, {"actor", "console:" + who->name}});
}

} // namespace h2r
