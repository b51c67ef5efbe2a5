// RuleSet: the parsed, validated form of rules.yaml, and the Rules implementation over it.
// Internal to lib/rules; others use rules/rules.hpp.
#pragma once

#include "rules/condition.hpp"
#include "rules/rules.hpp"
#include "rules/template.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace h2r {

struct AttributeRule {
  std::string path;                 // a known SCIM path (scim_paths.hpp)
  std::optional<Template> value;    // a template, or
  nlohmann::json literal;           // a literal boolean or number when `value` is empty
  int line = 0;                     // of the value in the rules file
  int column = 0;
};

// One entry of a role's zoom.groups: a template rendered per employee into a Zoom group display name.
struct GroupRule {
  std::string text;                 // as written
  Template name;
  int line = 0;                     // of the entry in the rules file
  int column = 0;
};

struct RoleRule {
  std::string name;
  std::optional<Condition> when;    // none: matches everyone
  std::string user_type;            // "" = not sent
  nlohmann::json licenses = nlohmann::json::object();  // name → bool
  std::string zoom_role;            // "" = not sent
  std::vector<GroupRule> groups;    // distinct texts, file order
};

struct TargetRule {
  std::string connection;
  std::optional<Condition> when;    // none: everyone
  int line = 0;                     // of the connection name in the rules file
  int column = 0;
};

struct RuleSet {
  std::string version;
  std::string source;
  std::vector<TargetRule> targets;
  std::vector<RoleRule> roles;
  OnNoRole on_no_role = OnNoRole::deprovision;
  std::vector<AttributeRule> attributes;  // file order
  std::vector<std::string> hr_fields;      // declared fields beyond the event format's (`hr_fields:`)
  TemplateTables tables;                   // `tables:`, for templates' map(name)
  Lifecycle lifecycle;
  Diagnostics warnings;
};

class RuleSetRules final : public Rules {
public:
  explicit RuleSetRules(RuleSet rules) : m_rules(std::move(rules)) {}

  const std::string& version() const override { return m_rules.version; }
  const std::string& source() const override { return m_rules.source; }
  const Lifecycle& lifecycle() const override { return m_rules.lifecycle; }
  OnNoRole on_no_role() const override { return m_rules.on_no_role; }
  std::vector<std::string> connections() const override;
  std::set<std::string> referenced_fields() const override;
  std::vector<RuleReference> connection_references() const override;
  std::vector<RuleReference> field_references() const override;
  std::vector<std::string> literal_groups() const override;
  const std::vector<std::string>& declared_fields() const override { return m_rules.hr_fields; }
  std::vector<TargetDecision> decide(const EmployeeRecord& record) const override;
  std::vector<TargetTrace> trace(const EmployeeRecord& record) const override;
  const Diagnostics& warnings() const override { return m_rules.warnings; }

private:
  DesiredUser build_user(const RoleRule& role, const EmployeeRecord& record) const;
  // The role's groups rendered into `user` (groups, groups_left_out; a name over the bounds: problem).
  static void render_groups(const RoleRule& role, const EmployeeRecord& record, DesiredUser& user);

  RuleSet m_rules;
};

// Parses and validates `text` (named `source` in diagnostics) into `out`; problems go to `diagnostics`.
void parse_rule_set(const std::string& text, const std::string& source, RuleSet& out, Diagnostics& diagnostics);

// First 12 hex characters of the SHA-256 of `bytes`.
std::string content_version(const std::string& bytes);

} // namespace h2r
