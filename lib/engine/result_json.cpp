// The stored result of an event (EventOutcome::result), written straight into one string. It is the
// same text, byte for byte, as building the nlohmann::json document (ActionReport::to_json) and
// dump()ing it — keys in std::map order, nlohmann's escapes — without the document: building and
// freeing it cost ~0.3 M instructions per provisioned hire (BENCHMARKS.md, profile row 5).
#include "engine/result_json.hpp"

#include "core/json_text.hpp"

namespace h2r {
namespace {

// A JSON string as nlohmann's serializer writes it with ensure_ascii = false (core/json_text.hpp), also
// bytes that are not UTF-8 as they are (nlohmann's strict dump would refuse them). Appending byte by
// byte cost ~40 k instructions per provisioned hire; the escaper appends the runs between escapes.
void append_string(std::string& out, std::string_view text) {
  out += '"';
  append_json_escaped(out, text);
  out += '"';
}

void append_value(std::string& out, const nlohmann::json& value) {
  if (value.is_string()) append_string(out, value.get_ref<const std::string&>());
  else if (value.is_null()) out += "null";
  else if (value.is_boolean()) out += value.get<bool>() ? "true" : "false";
  else out += value.dump();
}

void append_key(std::string& out, std::string_view key) {
  append_string(out, key);
  out += ':';
}

void append_call(std::string& out, const PlannedCall& c) {
  // Keys in std::map order: changes, method, path, summary, target.
  out += "{\"changes\":[";
  bool first = true;
  for (const auto& ch : c.changes) {
    if (!first) out += ',';
    first = false;
    out += "{\"after\":";
    append_value(out, ch.after);
    out += ",\"before\":";
    append_value(out, ch.before);
    out += ",\"path\":";
    append_string(out, ch.path);
    out += '}';
  }
  out += "],";
  append_key(out, "method");
  append_string(out, c.method);
  out += ',';
  append_key(out, "path");
  out += "\"/";
  append_json_escaped(out, c.resource);
  if (c.method != "POST") {
    out += '/';
    append_json_escaped(out, c.target);
  }
  out += '"';
  out += ',';
  append_key(out, "summary");
  append_string(out, c.summary);
  out += ',';
  append_key(out, "target");
  append_string(out, c.target);
  out += '}';
}

} // namespace

void append_report_json(std::string& out, const ActionReport& report) {
  // Keys in std::map order: action, calls, connection, userName, user_id ('N' sorts before '_').
  out += "{\"action\":";
  append_string(out, report.action);
  out += ",\"calls\":[";
  for (std::size_t i = 0; i < report.calls.size(); ++i) {
    if (i) out += ',';
    append_call(out, report.calls[i]);
  }
  out += "],\"connection\":";
  append_string(out, report.connection);
  out += ",\"userName\":";
  append_string(out, report.user_name);
  out += ",\"user_id\":";
  append_string(out, report.user_id);
  out += '}';
}

std::string event_result_json(std::string_view why, const std::vector<ResultTarget>& targets,
                              const std::vector<ActionReport>& actions) {
  std::string out;
  out.reserve(256 + 1024 * actions.size());
  // Keys in std::map order: actions, targets, why.
  out += "{\"actions\":[";
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (i) out += ',';
    append_report_json(out, actions[i]);
  }
  out += "],\"targets\":[";
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (i) out += ',';
    out += "{\"connection\":";
    append_string(out, targets[i].connection);
    out += ",\"role\":";
    append_string(out, targets[i].role);
    out += '}';
  }
  out += "],\"why\":";
  append_string(out, why);
  out += '}';
  return out;
}

} // namespace h2r
