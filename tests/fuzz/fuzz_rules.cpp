// libFuzzer target: load_rules_text(input); rules that load are also run against a few employees so
// conditions (regexes included) and templates (filters and functions: Unicode folding, tables, dates)
// execute on fuzzed rules.
// scripts/fuzz runs it with memory and time limits that an alias bomb or a backtracking regex would trip.
#include "rules/rules.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

const h2r::EmployeeRecord& employee(int which) {
  static const h2r::EmployeeRecord k_records[] = {
      {{"employee_id", "E1"}, {"first_name", "Zoë"}, {"last_name", "Ålund"}, {"email", "zoe@acme.com"},
       {"department", "Sales"}, {"country", "US"}, {"title", "  Lead  "},
       {"hire_date", "2024-02-29T08:00:00Z"}},
      {{"employee_id", "E2"}},
      {{"employee_id", "E3"}, {"first_name", ""}, {"department", "Ünïcödé ÆØ"}, {"email", "x"}},
      // Values that make backtracking regex engines explode on patterns such as ^(a+)+$ (seed
      // regex_backtracking.yaml): a hang here is caught by scripts/fuzz's -timeout.
      {{"employee_id", "E4"}, {"nickname", std::string(50, 'a') + "!"}, {"department", std::string(60, 'x')},
       {"first_name", "ПРОДАЖИ"}, {"last_name", "ΣΟΦΊΑ straße İ"}, {"email", "a@b"}, {"title", "\xFF\xC3("},
       {"hire_date", "2026-02-30"}},
  };
  return k_records[which];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto loaded = h2r::load_rules_text(text, "fuzz.yaml");
  if (!loaded) {
    if (loaded.error().empty()) std::abort();  // a refusal always says why
    for (const auto& diagnostic : loaded.error()) (void)diagnostic.to_string();
    return 0;
  }
  const h2r::RulesPtr& rules = *loaded;
  (void)rules->connections();
  (void)rules->referenced_fields();
  for (int i = 0; i < 4; ++i) {
    // The event readers refuse invalid UTF-8, so only E4's title carries it: from a valid record the
    // body must be valid UTF-8 (dump throws otherwise: no filter may cut a sequence), from E4 it may not.
    const auto handler = i == 3 ? nlohmann::json::error_handler_t::replace : nlohmann::json::error_handler_t::strict;
    for (const auto& decision : rules->decide(employee(i))) {
      if (decision.desired) (void)decision.desired->body.dump(-1, ' ', false, handler);
    }
  }
  return 0;
}
