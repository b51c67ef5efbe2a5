#include "h2rd/cli/events_view.hpp"

#include "core/text.hpp"
#include "core/time.hpp"
#include "h2rd/cli/context.hpp"
#include "hr/text_checks.hpp"
#include "rules/short_path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <pwd.h>
#include <unistd.h>

namespace h2r::cli {

// The byte-level text checks the HR readers use (a UTF-8 validator, safe quoting).
using hr_detail::find_invalid_utf8;
using hr_detail::quote_for_report;

namespace {

constexpr std::size_t k_max_id_text = 256;
constexpr std::size_t k_max_user_name = 64;

// HR text (field values, the source file's name) as the terminal may receive it: control characters
// (ESC, OSC, CR, LF) and bytes that are not UTF-8 as \xNN, so a value can neither drive the terminal
// nor forge a line.
std::string shown(std::string_view text) { return escape_for_log(text, std::numeric_limits<std::size_t>::max(), ""); }

} // namespace

// A reason may quote a file name raw ("arrived in NAME") or hold text escaped already (a server's
// error): escaped the same way, but a backslash is left alone.
std::string shown_reason(std::string_view reason) {
  return escape_for_log(reason, std::numeric_limits<std::size_t>::max(), "", false);
}

namespace {

std::optional<long long> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  long long n = std::stoll(std::string(text));
  return n > 0 ? std::optional(n) : std::nullopt;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>().empty() ? "\"\"" : shown(v.get<std::string>());
  return v.dump();
}

std::string state_change(const EventHistoryRow& h) {
  return (h.from ? std::string(to_string(*h.from)) : std::string("arrived")) + " → " + std::string(to_string(h.to));
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text + "  ";
}

std::string summary(const EventRow& e, const nlohmann::json& result, const std::vector<EventHistoryRow>& history,
                    long long now_ms) {
  std::string s = fmt::format("A {} of employee {}, effective {}, arrived {} in {}.", to_string(e.type), e.employee_id,
                              time_text(e.effective_at_ms), time_text(e.received_at_ms), shown(e.source_file));
  if (e.leave_type) s += fmt::format(" Leave type: {}.", to_string(*e.leave_type));
  if (result.is_object() && result.contains("targets") && result["targets"].is_array() && !result["targets"].empty()) {
    std::vector<std::string> parts;
    for (const auto& t : result["targets"])
      parts.push_back(t.value("role", "").empty() ? "no role in " + t.value("connection", "")
                                                 : "role " + t.value("role", "") + " in " + t.value("connection", ""));
    s += " The rules";
    if (!e.rules_version.empty()) s += " (version " + e.rules_version.substr(0, 12) + ")";
    s += " matched " + fmt::format("{}", fmt::join(parts, ", ")) + ".";
  } else if (result.is_object() && result.contains("why") && result["why"].is_string()) {
    s += " The rules decided: " + result["why"].get<std::string>() + ".";
  }
  bool acted = false;
  if (result.is_object() && result.contains("actions") && result["actions"].is_array()) {
    for (const auto& a : result["actions"]) {
      std::vector<std::string> calls;
      for (const auto& c : a.value("calls", nlohmann::json::array()))
        calls.push_back(c.value("method", "") + " " + c.value("summary", ""));
      s += fmt::format(" In {}: {} {}", a.value("connection", ""), a.value("action", ""), a.value("userName", ""));
      if (!a.value("user_id", "").empty()) s += " (Zoom user " + a.value("user_id", "") + ")";
      s += calls.empty() ? std::string(", no call needed.") : fmt::format(" by {}.", fmt::join(calls, ", "));
      acted = true;
    }
  }
  // Calls a daemon sent before an operator's decision refused its outcome (Store::note_event).
  for (const auto& h : history)
    if (h.reason.rfind(k_sent_before_decision, 0) == 0) {
      s += " Sent to Zoom before the decision: " + h.reason.substr(k_sent_before_decision.size()) + ".";
      acted = true;
    }
  if (!acted && is_final(e.state)) s += " Nothing was changed at Zoom.";
  s += fmt::format(" The event is {}", to_string(e.state));
  if (auto wait = wait_text(e, now_ms); !wait.empty()) s += ": " + wait;
  else if (!e.reason.empty()) s += ": " + shown_reason(e.reason);
  return s + ".";
}

} // namespace

void print_audit_record(std::ostream& out, const EventRow& e, const std::vector<EventHistoryRow>& history,
                        long long now_ms, const std::string& name, const std::vector<LinkRow>& links) {
  const nlohmann::json result = e.result.empty() ? nlohmann::json() : nlohmann::json::parse(e.result, nullptr, false);
  out << "event " << e.id << " (HR event_id " << e.event_id << "): " << to_string(e.type) << " of employee "
      << e.employee_id << (name.empty() ? "" : " (" + shown_reason(name) + ")") << " — " << to_string(e.state) << "\n";
  for (const auto& link : links)
    out << "Zoom user in " << link.connection << ": " << shown_reason(link.user_name) << " (id "
        << shown_reason(link.zoom_user_id) << ", " << (link.active ? "active" : "inactive") << ")\n";
  out << "\n"
      << summary(e, result, history, now_ms) << "\n\nchanges:\n";
  std::vector<std::array<std::string, 4>> rows;
  if (result.is_object() && result.contains("actions") && result["actions"].is_array())
    for (const auto& a : result["actions"])
      for (const auto& c : a.value("calls", nlohmann::json::array()))
        for (const auto& ch : c.value("changes", nlohmann::json::array()))
          rows.push_back({a.value("connection", ""), short_scim_path(ch.value("path", "")), value_text(ch.value("before", nlohmann::json())),
                          value_text(ch.value("after", nlohmann::json()))});
  if (rows.empty()) {
    out << "  (no attribute changes recorded)\n";
  } else {
    std::array<std::size_t, 3> width = {10, 4, 3};
    for (const auto& r : rows)
      for (std::size_t i = 0; i < 3; ++i) width[i] = std::max(width[i], std::min<std::size_t>(r[i].size(), 40));
    out << "  " << pad("CONNECTION", width[0]) << pad("PATH", width[1]) << pad("OLD", width[2]) << "   NEW\n";
    for (const auto& r : rows) out << "  " << pad(r[0], width[0]) << pad(r[1], width[1]) << pad(r[2], width[2]) << "→  " << r[3] << "\n";
  }
  out << "\nhistory:\n";
  if (history.empty()) out << "  (none recorded: the event is older than the history table)\n";
  for (const auto& h : history)
    out << "  " << time_text(h.at_ms) << "  " << pad(state_change(h), 20) << pad("by " + h.actor, 16) << shown_reason(h.reason) << "\n";
  out << "\ndetails:\n  effective: " << time_text(e.effective_at_ms) << " (as written: "
      << (e.effective_raw.empty() ? "none, meaning on arrival" : shown(e.effective_raw)) << ")\n";
  if (!is_final(e.state)) out << "  due: " << time_text(e.due_at_ms) << "\n";
  out << "  attempts: " << e.attempts << "\n  approved: " << (e.approved ? "yes" : "no") << "\n  rules version: "
      << (e.rules_version.empty() ? "-" : e.rules_version) << "\n  received: " << time_text(e.received_at_ms)
      << "\n  updated: " << time_text(e.updated_at_ms) << "\n  source file: " << shown(e.source_file) << "\n  fields:";
  for (const auto& [k, v] : e.fields) out << "\n    " << shown(k) << ": " << (v ? shown(*v) : std::string("(null: cleared)"));
  out << "\n";
}

Result<EventRow> resolve_event(Store& store, const std::string& text) {
  if (text.empty() || text.size() > k_max_id_text)
    return fail(ErrorKind::invalid, fmt::format("an event id is 1 to {} bytes", k_max_id_text));
  const std::string quoted = quote_for_report(text);
  auto found = [&](Result<std::optional<EventRow>> row, std::string what) -> Result<EventRow> {
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return fail(ErrorKind::not_found, "no event has " + what + " (see `h2rd events list`)");
    return **row;
  };
  if (text.rfind("id:", 0) == 0) {
    auto number = parse_number(std::string_view(text).substr(3));
    if (!number) return fail(ErrorKind::invalid, quoted + ": after id: comes a positive number");
    return found(store.get_event(*number), "the id " + std::to_string(*number));
  }
  if (text.rfind("hr:", 0) == 0) return found(store.find_event(text.substr(3)), "the HR event_id " + quote_for_report(text.substr(3)));
  std::optional<EventRow> by_id;
  if (auto number = parse_number(text)) {
    auto row = store.get_event(*number);
    if (!row) return unexpected(std::move(row).error());
    by_id = *row;
  }
  auto by_hr = store.find_event(text);
  if (!by_hr) return unexpected(std::move(by_hr).error());
  if (by_id && *by_hr && (*by_hr)->id != by_id->id)
    return fail(ErrorKind::invalid, fmt::format("{} names two events: event {} by its id, and event {} by its HR event_id; "
                                                "say id:{} or hr:{}", quoted, by_id->id, (*by_hr)->id, text, text));
  if (by_id) return *by_id;
  if (*by_hr) return **by_hr;
  return fail(ErrorKind::not_found, "no event has the id or HR event_id " + quoted + " (see `h2rd events list`)");
}

void print_planned_calls(std::ostream& out, const nlohmann::json& planned, const std::string& indent) {
  if (!planned["hold"].is_null())
    out << indent << "held: " << planned["hold"].get<std::string>() << " (`h2rd run` holds it: none of these calls until it is approved)\n";
  if (planned["actions"].empty()) out << indent << "nothing to do: " << planned["note"].get<std::string>() << "\n";
  for (const auto& a : planned["actions"]) {
    const std::string connection = indent + "[" + a["connection"].get<std::string>() + "] ";
    if (a.contains("error")) {
      out << connection << "cannot plan: " << a["error"].get<std::string>() << "\n";
      continue;
    }
    if (a["calls"].empty())
      out << connection << "no call: " << a["userName"].get<std::string>() << " is " << a["action"].get<std::string>() << "\n";
    for (const auto& call : a["calls"]) {
      out << connection << call["method"].get<std::string>() << " " << call["path"].get<std::string>() << "  ("
          << call["summary"].get<std::string>() << " " << a["userName"].get<std::string>() << ")\n";
      for (const auto& ch : call["changes"])
        out << indent << "    " << short_scim_path(ch["path"].get<std::string>()) << ": " << json_text(ch["before"]) << " → "
            << json_text(ch["after"]) << "\n";
    }
  }
}

std::string cli_actor() {
  auto safe = [](std::string_view name) {
    return !name.empty() && name.size() <= k_max_user_name &&
           std::all_of(name.begin(), name.end(), [](char c) {
             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == '@' || c == '$';
           });
  };
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && safe(sudo)) return std::string("cli:") + sudo + " via sudo";
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found && safe(found->pw_name))
    return std::string("cli:") + found->pw_name;
  return "cli:uid " + std::to_string(getuid());
}

std::optional<std::string> clean_reason(std::string_view text, std::string& error) {
  if (text.empty() || text.size() > k_max_reason_bytes) {
    error = fmt::format("--reason: give 1 to {} bytes (this one has {})", k_max_reason_bytes, text.size());
    return std::nullopt;
  }
  std::string out;
  auto escape = [&](std::string_view part) {
    for (char c : part) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
      else out += c;
    }
  };
  std::string_view rest = text;
  while (!rest.empty()) {
    auto bad = find_invalid_utf8(rest);
    escape(rest.substr(0, bad.value_or(rest.size())));
    if (!bad) break;
    out += fmt::format("\\x{:02x}", static_cast<unsigned char>(rest[*bad]));
    rest.remove_prefix(*bad + 1);
  }
  return out;
}

} // namespace h2r::cli
