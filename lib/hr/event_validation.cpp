#include "hr/event_validation.hpp"

#include "core/time.hpp"
#include "hr/event_stream.hpp"
#include "hr/text_checks.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace h2r::hr_detail {
namespace {

using nlohmann::json;

constexpr std::string_view k_event_keys[] = {"event_id", "type", "effective_date", "leave_type", "employee"};

const char* json_type_name(const json& j) {
  switch (j.type()) {
  case json::value_t::null: return "null";
  case json::value_t::object: return "an object";
  case json::value_t::array: return "an array";
  case json::value_t::string: return "a string";
  case json::value_t::boolean: return "a boolean";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
  case json::value_t::number_float: return "a number";
  default: return "not a string";
  }
}

struct Checker {
  int record;
  int line;
  std::vector<FileProblem>& problems;
  bool ok = true;

  void problem(std::string field, std::string message) {
    ok = false;
    add_problem(problems, {record, line, std::move(field), std::move(message)});
  }

  // An effective date as written → the ISO text stored ("" after a problem): a spreadsheet's date
  // read as `dates` says, then the year range checked on what it was read as.
  std::string effective_date(const std::string& text, const DateReading& dates) {
    auto iso = read_effective_date(text, dates);
    if (!iso) {
      problem("effective_date", quote_for_report(text) + " " + iso.error());
      return "";
    }
    if (auto out_of_range = effective_date_range_problem(*iso)) {
      const std::string read_as = *iso == text ? "" : " (read as " + *iso + ")";
      problem("effective_date", quote_for_report(text) + read_as + " " + *out_of_range);
      return "";
    }
    return std::move(*iso);
  }

  // A required, non-empty string of at most `max_bytes` without control characters.
  std::optional<std::string> identifier(const json* j, const std::string& field, std::size_t max_bytes) {
    if (!j) {
      problem(field, "is required");
      return std::nullopt;
    }
    if (!j->is_string()) {
      problem(field, std::string("must be a string, not ") + json_type_name(*j));
      return std::nullopt;
    }
    const auto& s = j->get_ref<const std::string&>();
    if (s.empty()) {
      problem(field, "must not be empty");
      return std::nullopt;
    }
    if (s.size() > max_bytes) {
      problem(field, "is longer than " + std::to_string(max_bytes) + " bytes");
      return std::nullopt;
    }
    if (has_control_char(s)) {
      problem(field, "must not contain control characters");
      return std::nullopt;
    }
    return s;
  }
};

const json* find_key(const json& object, std::string_view key) {
  auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &*it;
}

std::string type_list() { return "hire, update, leave, return, terminate, rehire"; }

} // namespace

bool is_plausible_email(std::string_view text) {
  if (text.size() > 254 || text.empty()) return false;
  if (std::any_of(text.begin(), text.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c <= 0x20 || c == 0x7F;
      }))
    return false;
  const auto at = text.find('@');
  if (at == std::string_view::npos || at == 0 || text.find('@', at + 1) != std::string_view::npos)
    return false;
  const auto domain = text.substr(at + 1);
  const auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == domain.size()) return false;
  if (domain.front() == '.' || domain.find("..") != std::string_view::npos) return false;
  return true;
}

std::optional<HrEvent> validate_event_record(const json& j, int record, int line,
                                             std::vector<FileProblem>& problems, const DateReading& dates) {
  Checker check{record, line, problems};
  if (!j.is_object()) {
    check.problem("", std::string("an event must be a JSON object, not ") + json_type_name(j));
    return std::nullopt;
  }
  HrEvent event;
  event.record = record;
  event.line = line;

  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(k_event_keys), std::end(k_event_keys), key) == std::end(k_event_keys))
      check.problem(key, "unknown key (allowed: event_id, type, effective_date, leave_type, employee)");
  }

  if (auto id = check.identifier(find_key(j, "event_id"), "event_id", k_max_event_id_bytes))
    event.event_id = *id;

  std::optional<EventType> type;
  if (const json* t = find_key(j, "type"); !t) {
    check.problem("type", "is required (one of " + type_list() + ")");
  } else if (!t->is_string()) {
    check.problem("type", std::string("must be a string, not ") + json_type_name(*t));
  } else if (!(type = parse_hr_event_type(t->get_ref<const std::string&>()))) {
    check.problem("type", "unknown event type " + quote_for_report(t->get_ref<const std::string&>()) +
                              " (one of " + type_list() + ")");
  } else {
    event.type = *type;
  }

  if (const json* d = find_key(j, "effective_date")) {
    if (!d->is_string())
      check.problem("effective_date", std::string("must be a string, not ") + json_type_name(*d) +
                                          " (leave it out for 'now')");
    else
      event.effective_date = check.effective_date(d->get_ref<const std::string&>(), dates);
  }

  const json* leave = find_key(j, "leave_type");
  if (type == EventType::leave) {
    if (!leave)
      check.problem("leave_type", "is required for leave events (long_term, fmla, legal or security)");
    else if (!leave->is_string())
      check.problem("leave_type", std::string("must be a string, not ") + json_type_name(*leave));
    else if (!(event.leave_type = parse_leave_type(leave->get_ref<const std::string&>())))
      check.problem("leave_type", "unknown leave type " +
                                      quote_for_report(leave->get_ref<const std::string&>()) +
                                      " (one of long_term, fmla, legal, security)");
  } else if (leave && type) {
    check.problem("leave_type", "is only allowed in leave events");
  }

  const json* employee = find_key(j, "employee");
  if (!employee) {
    check.problem("employee", "is required");
  } else if (!employee->is_object()) {
    check.problem("employee", std::string("must be an object, not ") + json_type_name(*employee));
  } else {
    if (employee->size() > k_max_fields_per_employee)
      check.problem("employee", "has " + std::to_string(employee->size()) + " fields, more than " +
                                    std::to_string(k_max_fields_per_employee));
    for (const auto& [name, value] : employee->items()) {
      if (name.empty() || name.size() > k_max_field_name_bytes || has_control_char(name)) {
        check.problem("", "employee field name " + quote_for_report(name) + " is not 1 to " +
                              std::to_string(k_max_field_name_bytes) + " bytes without control characters");
        continue;
      }
      if (value.is_null()) {
        if (name == "employee_id")
          continue; // reported below
        if (type && type != EventType::update)
          check.problem(name, "null (clear the field) is only allowed in update events");
        else
          event.fields[name] = std::nullopt;
        continue;
      }
      if (!value.is_string()) {
        check.problem(name, std::string("must be a string or null, not ") + json_type_name(value));
        continue;
      }
      const auto& s = value.get_ref<const std::string&>();
      if (s.size() > k_max_field_value_bytes) {
        check.problem(name, "is longer than " + std::to_string(k_max_field_value_bytes) + " bytes");
        continue;
      }
      if (s.find('\0') != std::string::npos) {
        check.problem(name, "must not contain a NUL character");
        continue;
      }
      event.fields[name] = s;
    }
    if (auto id = check.identifier(find_key(*employee, "employee_id"), "employee_id", k_max_employee_id_bytes))
      event.employee_id = *id;

    const json* email = find_key(*employee, "email");
    const bool email_required = type == EventType::hire || type == EventType::rehire;
    if (email_required && !email)
      check.problem("email", std::string("is required for ") + std::string(to_string(*type)) + " events");
    else if (email && email->is_string() && !is_plausible_email(email->get_ref<const std::string&>()))
      check.problem("email", "not a plausible e-mail address (something@domain.tld, no spaces)");
  }

  if (!check.ok) return std::nullopt;
  return event;
}

void check_duplicate_event_ids(const std::vector<HrEvent>& events, std::vector<FileProblem>& problems) {
  std::unordered_map<std::string_view, int> first_record;
  for (const auto& e : events) {
    auto [it, inserted] = first_record.emplace(e.event_id, e.record);
    if (!inserted) add_problem(problems, duplicate_event_id_problem(e, it->second));
  }
}

} // namespace h2r::hr_detail
