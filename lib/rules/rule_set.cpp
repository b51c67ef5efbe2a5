#include "rules/rule_set.hpp"

#include "hr/text_checks.hpp"  // find_invalid_utf8, line_at: shared with the event readers
#include "rules/scim_paths.hpp"
#include "rules/text_fold.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

namespace h2r {

std::vector<std::string> RuleSetRules::connections() const {
  std::vector<std::string> out;
  for (const auto& t : m_rules.targets) out.push_back(t.connection);
  return out;
}

std::set<std::string> RuleSetRules::referenced_fields() const {
  std::set<std::string> out;
  for (const auto& t : m_rules.targets)
    if (t.when) t.when->collect_fields(out);
  for (const auto& r : m_rules.roles) {
    if (r.when) r.when->collect_fields(out);
    for (const auto& g : r.groups) g.name.collect_fields(out);
  }
  for (const auto& a : m_rules.attributes)
    if (a.value) a.value->collect_fields(out);
  return out;
}

std::vector<std::string> RuleSetRules::literal_groups() const {
  std::vector<std::string> out;
  for (const auto& r : m_rules.roles)
    for (const auto& g : r.groups) {
      std::set<std::string> fields;
      g.name.collect_fields(fields);
      if (!fields.empty()) continue;
      auto name = g.name.render(EmployeeRecord{});   // no placeholder: the text, {{ }} made single
      if (name && std::find(out.begin(), out.end(), *name) == out.end()) out.push_back(*name);
    }
  return out;
}

std::vector<RuleReference> RuleSetRules::connection_references() const {
  std::vector<RuleReference> out;
  for (const auto& t : m_rules.targets) out.push_back({t.connection, t.line, t.column});
  return out;
}

namespace {

// userName, and the e-mail addresses (emails[...].value): the attributes that say which Zoom user this is.
bool identifies_user(const std::string& path) { return path == "userName" || path.rfind("emails", 0) == 0; }

std::string empty_identity_problem(const AttributeRule& attribute, const EmployeeRecord& record) {
  std::set<std::string> fields;
  attribute.value->collect_fields(fields);
  std::string missing;
  for (const auto& field : fields) {
    auto it = record.find(field);
    if (it != record.end() && !trim(it->second).empty()) continue;
    missing += (missing.empty() ? "" : ", ") + field;
  }
  return "the rules' " + attribute.path + " is empty for this employee" +
         (missing.empty() ? "" : " (no value for " + missing + " in the employee's record)") +
         ": nothing is sent to Zoom without the user's address";
}

} // namespace

std::vector<RuleReference> RuleSetRules::field_references() const {
  std::vector<RuleReference> all;
  for (const auto& t : m_rules.targets)
    if (t.when) t.when->collect_field_references(all);
  for (const auto& r : m_rules.roles)
    if (r.when) r.when->collect_field_references(all);
  for (auto& r : all) r.decides = true;   // conditions decide who gets a Zoom user, and which role
  for (const auto& a : m_rules.attributes) {
    if (!a.value) continue;
    std::set<std::string> fields;
    a.value->collect_fields(fields);
    for (const auto& f : fields) all.push_back({f, a.line, a.column, identifies_user(a.path)});
  }
  for (const auto& r : m_rules.roles)
    for (const auto& g : r.groups) {
      std::set<std::string> fields;
      g.name.collect_fields(fields);
      for (const auto& f : fields) all.push_back({f, g.line, g.column, false});
    }
  // Once per field, at its first place in the file; deciding wherever it decides once.
  std::sort(all.begin(), all.end(), [](const RuleReference& x, const RuleReference& y) {
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  std::map<std::string, std::size_t> first;
  std::vector<RuleReference> out;
  for (auto& r : all) {
    auto [it, added] = first.emplace(r.name, out.size());
    if (added)
      out.push_back(std::move(r));
    else
      out[it->second].decides = out[it->second].decides || r.decides;
  }
  return out;
}

std::vector<TargetDecision> RuleSetRules::decide(const EmployeeRecord& record) const {
  std::vector<TargetDecision> out;
  for (const auto& target : m_rules.targets) {
    if (target.when && !target.when->matches(record)) continue;
    TargetDecision decision{target.connection, std::nullopt};
    for (const auto& role : m_rules.roles) {
      if (role.when && !role.when->matches(record)) continue;
      decision.desired = build_user(role, record);
      break;
    }
    out.push_back(std::move(decision));
  }
  return out;
}

std::vector<TargetTrace> RuleSetRules::trace(const EmployeeRecord& record) const {
  std::vector<TargetTrace> out;
  for (const auto& target : m_rules.targets) {
    TargetTrace t;
    t.connection = target.connection;
    t.why_not = target.when ? target.when->why_not(record) : "";
    t.taken = t.why_not.empty();
    if (t.taken) {
      for (const auto& role : m_rules.roles) {
        RoleTrace r;
        r.role = role.name;
        r.why_not = role.when ? role.when->why_not(record) : "";
        r.matched = r.why_not.empty();
        t.roles.push_back(std::move(r));
        if (t.roles.back().matched) break;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

DesiredUser RuleSetRules::build_user(const RoleRule& role, const EmployeeRecord& record) const {
  DesiredUser user;
  user.role = role.name;
  user.body = nlohmann::json::object();
  for (const auto& attribute : m_rules.attributes) {
    if (!attribute.value) {
      set_scim_attribute(user.body, attribute.path, attribute.literal);
      continue;
    }
    auto text = attribute.value->render(record);
    // A userName or e-mail address that renders empty would send "" (or nothing) as the address of the
    // employee's Zoom user: the event fails before any call, naming the attribute and the fields.
    if (identifies_user(attribute.path) && (!text || trim(*text).empty())) {
      if (user.problem.empty()) user.problem = empty_identity_problem(attribute, record);
      continue;
    }
    if (!text) continue;
    if (auto too_long = scim_value_too_long(attribute.path, *text)) {
      if (user.problem.empty()) user.problem = *too_long;   // the first is reported; none is sent
      continue;
    }
    if (attribute.path == "userName") user.user_name = *text;
    set_scim_attribute(user.body, attribute.path, *text);
  }
  if (!role.user_type.empty()) user.body["userType"] = role.user_type;
  if (!role.zoom_role.empty())
    user.body["roles"] = nlohmann::json::array({{{"value", role.zoom_role}, {"primary", true}}});
  if (!role.licenses.empty()) {
    auto& ext = user.body[std::string(k_zoom_license_urn)];
    for (const auto& [name, enabled] : role.licenses.items()) ext[name] = enabled;
  }
  set_scim_schemas(user.body);
  render_groups(role, record, user);
  return user;
}

namespace {

// A group name rendered from HR data, as Zoom names match it: no space at either end, and one space
// for each run of spaces ("{division} {department}" with no division is "Sales", not " Sales").
std::string tidy_group_name(std::string_view name) {
  std::string out;
  for (char c : trim(name)) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

} // namespace

void RuleSetRules::render_groups(const RoleRule& role, const EmployeeRecord& record, DesiredUser& user) {
  for (const auto& group : role.groups) {
    auto name = group.name.render(record);
    if (!name || trim(*name).empty()) {
      user.groups_left_out.push_back(group.text);
      continue;
    }
    std::set<std::string> fields;
    group.name.collect_fields(fields);
    if (!fields.empty()) name = tidy_group_name(*name);   // a literal entry is the name as written
    std::string bad;
    if (utf8_chars(*name) > k_max_group_name_chars)
      bad = std::to_string(utf8_chars(*name)) + " characters, more than the " + std::to_string(k_max_group_name_chars) +
            " a group name may have";
    else if (std::any_of(name->begin(), name->end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      bad = "a control character";
    if (!bad.empty()) {
      if (user.problem.empty())
        user.problem = "group \"" + group.text + "\" of role '" + role.name + "' renders to a name with " + bad +
                       " for this employee: nothing is sent to Zoom";
      continue;
    }
    if (std::find(user.groups.begin(), user.groups.end(), *name) == user.groups.end()) user.groups.push_back(*name);
  }
}

std::string content_version(const std::string& bytes) {
  std::string hex = sha256_hex(bytes);
  return hex.empty() ? "unknown" : hex.substr(0, 12);
}

Expected<RulesPtr, Diagnostics> load_rules_text(const std::string& text, const std::string& display_name) {
  // YAML is UTF-8 here; yaml-cpp does not check, and a bad byte in a literal would reach the SCIM body
  // (whose JSON serialisation throws on it). Refused up front, at its line:col (column in bytes).
  if (const auto bad = hr_detail::find_invalid_utf8(text)) {
    const auto line_start = *bad == 0 ? std::string::npos : text.rfind('\n', *bad - 1);
    const std::size_t column = line_start == std::string::npos ? *bad + 1 : *bad - line_start;
    return unexpected(Diagnostics{Diagnostic{display_name, hr_detail::line_at(text, *bad), static_cast<int>(column),
                                             "invalid UTF-8 (the rules file must be UTF-8 text)", false}});
  }
  RuleSet rules;
  Diagnostics diagnostics;
  try {
    parse_rule_set(text, display_name, rules, diagnostics);
  } catch (const std::exception& e) {  // nothing may escape the library
    diagnostics.push_back(Diagnostic{display_name, 0, 0, std::string("cannot read the rules: ") + e.what(), false});
  }
  yaml::sort_by_place(diagnostics);
  if (has_errors(diagnostics)) return unexpected(std::move(diagnostics));
  rules.version = content_version(text);
  rules.source = display_name;
  rules.warnings = std::move(diagnostics);
  return RulesPtr(std::make_shared<const RuleSetRules>(std::move(rules)));
}

Expected<RulesPtr, Diagnostics> load_rules_file(const std::string& path) {
  std::string text;  // at most the size limit + 1 byte: Reader::parse refuses a file over it
  if (!yaml::read_file_prefix(path, yaml::Limits{}.max_bytes, text)) {
    const int err = errno;
    return unexpected(Diagnostics{Diagnostic{path, 0, 0,
                                             std::string("cannot read the rules file: ") + std::strerror(err) +
                                                 " (check `rules:` in the config)",
                                             false}});
  }
  return load_rules_text(text, path);
}

} // namespace h2r
