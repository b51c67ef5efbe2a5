// What `h2rd events` shows: an event as JSON (raw data, null where absent), as an audit record for
// people (summary, attribute changes, history), why it waits; and how an ID on the command line names
// an event (internal id or HR event_id).
#pragma once

#include "views/views.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace h2r::cli {

inline constexpr std::size_t k_max_reason_bytes = 500;

// The JSON builders live in lib/views/views.hpp (the console's API uses them too).
using h2r::event_json;
using h2r::history_json;
using h2r::wait_text;

// An event's or history row's reason as a terminal may receive it (no control character, no byte
// that is not UTF-8; backslashes as they are, the reason may be escaped already).
std::string shown_reason(std::string_view reason);

// `h2rd events show ID` for people: `name` is the employee's (views.hpp: EmployeeNames), `links` their
// Zoom users (views.hpp: links_of).
void print_audit_record(std::ostream& out, const EventRow& e, const std::vector<EventHistoryRow>& history,
                        long long now_ms, const std::string& name, const std::vector<LinkRow>& links);

// A planned event's (planned_json's) calls for people, each line indented by `indent`: its hold, and
// per connection each call with its attribute changes old → new (or why there is none); `h2rd plan`,
// `h2rd provision` and `h2rd events show --plan`.
void print_planned_calls(std::ostream& out, const nlohmann::json& planned, const std::string& indent = "  ");

// The event `text` names: "12" is the event with internal id 12, else the one with HR event_id "12";
// "id:12" and "hr:12" choose. Errors (not_found, invalid for an ambiguous name) say what to type.
Result<EventRow> resolve_event(Store& store, const std::string& text);

// Who runs this CLI, for the event history: "cli:" + $SUDO_USER (with " via sudo"), else the login
// name of the real uid, else "cli:uid N".
std::string cli_actor();

// A reason from the command line as one safe line: control characters and invalid UTF-8 become
// \xNN; nullopt (with `error`) when empty or longer than k_max_reason_bytes.
std::optional<std::string> clean_reason(std::string_view text, std::string& error);

} // namespace h2r::cli
