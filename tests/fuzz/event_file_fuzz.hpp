// Shared body of the event-file fuzz targets: the input is one whole event file of a given format.
#pragma once

#include "hr/readers.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace h2r::fuzz {

// Parses `data` as a file of `format` and checks the reader's contract: a rejected file lists its
// problems (at most k_max_problems_listed) and every problem renders; an accepted file may have none (an export with no changes).
inline int fuzz_event_file(FileFormat format, const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  const ParsedFile parsed = parse_event_file(format, content);
  if (parsed.problems.size() > k_max_problems_listed + 1) std::abort();
  if (!parsed.problems.empty() && !parsed.events.empty()) std::abort();  // a rejected file has no events
  for (const auto& problem : parsed.problems) {
    if (problem.to_string().empty()) std::abort();
  }
  for (const auto& event : parsed.events) {
    if (event.employee_id.empty() || event.event_id.empty()) std::abort();
  }
  return 0;
}

} // namespace h2r::fuzz
