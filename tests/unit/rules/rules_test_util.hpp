// Helpers shared by the rules tests.
#pragma once

#include "rules/rules.hpp"

#include <doctest/doctest.h>

#include <string>

namespace h2r::test {

inline std::string diagnostics_text(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

// Loads rules that must be valid (fails the test otherwise).
inline RulesPtr must_load(const std::string& text) {
  auto rules = load_rules_text(text, "rules.yaml");
  REQUIRE_MESSAGE(rules, diagnostics_text(rules ? Diagnostics{} : rules.error()));
  return *rules;
}

// A minimal valid header for tests that only vary the attributes.
inline const char* k_rules_head = "version: 1\ntargets: [{connection: zoom}]\nroles: [{name: all}]\n";

} // namespace h2r::test
