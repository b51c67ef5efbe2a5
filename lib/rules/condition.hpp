// Condition: the `when:` of targets and roles — leaves comparing one employee field, combined with
// all / any / not to any depth (docs/SPEC.md "Rules file").
#pragma once

#include "config/yaml_reader.hpp"
#include "hr/event.hpp"
#include "rules/rules.hpp"

#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace h2r {

// A field that is absent or empty counts as missing: every operator is false on it except
// `not_equals` (true) and `exists: false` (true). Comparisons are case-insensitive (ASCII, Latin-1 and
// Latin Extended-A letters) unless the leaf says `case_sensitive: true`; `matches` then uses
// std::regex::icase, which folds ASCII only. Immutable after parsing; safe to share between threads.
class Condition {
public:
  enum class Kind { all, any, negation, leaf };
  enum class Op { equals, not_equals, in, contains, starts_with, ends_with, matches, exists };

  bool matches(const EmployeeRecord& record) const;
  void collect_fields(std::set<std::string>& out) const;
  // Each leaf's field with the place of its name, in file order (repeats included).
  void collect_field_references(std::vector<RuleReference>& out) const;

  // Parses a condition map; problems are reported to `reader` (with `what` naming the place, e.g.
  // "roles[2].when") and nullopt is returned after the whole subtree has been checked.
  static std::optional<Condition> parse(yaml::Reader& reader, const YAML::Node& node, const std::string& what);

private:
  bool leaf_matches(const EmployeeRecord& record) const;

  Kind m_kind = Kind::leaf;
  std::vector<Condition> m_children;
  std::string m_field;
  int m_line = 0;      // of `field:`'s value
  int m_column = 0;
  Op m_op = Op::equals;
  std::vector<std::string> m_values;  // already lower-cased when not case-sensitive
  bool m_case_sensitive = false;
  bool m_exists = true;
  std::optional<std::regex> m_regex;
};

} // namespace h2r
