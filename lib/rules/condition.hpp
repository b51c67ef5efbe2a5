// Condition: the `when:` of targets and roles — leaves comparing one employee field, combined with
// all / any / not to any depth (docs/man/h2r-rules.5).
#pragma once

#include "yaml/yaml_reader.hpp"
#include "hr/event.hpp"
#include "rules/rules.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace h2r {

// A field that is absent or empty counts as missing: every operator is false on it except
// `not_equals` (true) and `exists: false` (true). Comparisons are case-insensitive in every script
// (Unicode full case folding, fold_case) unless the leaf says `case_sensitive: true`. `matches` is RE2
// syntax, compiled once here and matched in time linear in the value (no backreferences or lookaround;
// case-insensitive by RE2's own Unicode folding). Immutable after parsing; safe to share between threads.
class Condition {
public:
  static constexpr std::size_t k_max_pattern_bytes = 1000;
  static constexpr std::int64_t k_regex_max_mem = 2 << 20;  // RE2's budget per pattern (program + DFA cache)

  // What the compiled `matches` patterns of one rules file may take together (RE2 program memory,
  // estimated from each program's size), so that many patterns just under the per-pattern cap cannot
  // add up to gigabytes.
  struct PatternBudget {
    std::int64_t bytes_left = 64 << 20;
  };

  enum class Kind { all, any, negation, leaf };
  enum class Op { equals, not_equals, in, contains, starts_with, ends_with, matches, exists };

  bool matches(const EmployeeRecord& record) const;
  // Why the condition is false for `record`, for people: the leaf that decides it, e.g. "department
  // is 'Sales', not one of 'engineering', 'product' (line 12)" (`any`: each of its parts, `not`: the
  // part that holds); "" when it holds. Values from the record are cut at 80 bytes.
  std::string why_not(const EmployeeRecord& record) const;
  void collect_fields(std::set<std::string>& out) const;
  // Each leaf's field with the place of its name, in file order (repeats included).
  void collect_field_references(std::vector<RuleReference>& out) const;

  // Parses a condition map; problems are reported to `reader` (with `what` naming the place, e.g.
  // "roles[2].when") and nullopt is returned after the whole subtree has been checked. Patterns are
  // charged to `budget` (one per rules file); the overload without it has a budget of its own.
  static std::optional<Condition> parse(yaml::Reader& reader, const YAML::Node& node, const std::string& what,
                                        PatternBudget& budget);
  static std::optional<Condition> parse(yaml::Reader& reader, const YAML::Node& node, const std::string& what) {
    PatternBudget budget;
    return parse(reader, node, what, budget);
  }

private:
  bool leaf_matches(const EmployeeRecord& record) const;
  std::string leaf_why_not(const EmployeeRecord& record) const;
  // What the leaf asks, e.g. "department is one of 'a', 'b'", and its place " (line 12)".
  std::string leaf_text() const;
  std::string place() const;

  Kind m_kind = Kind::leaf;
  std::vector<Condition> m_children;
  std::string m_field;
  int m_line = 0;      // of `field:`'s value
  int m_column = 0;
  Op m_op = Op::equals;
  std::vector<std::string> m_values;  // already case-folded when not case-sensitive
  bool m_case_sensitive = false;
  bool m_exists = true;
  std::shared_ptr<const re2::RE2> m_regex;  // `matches` only
};

} // namespace h2r
