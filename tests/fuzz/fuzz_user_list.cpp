// libFuzzer target: Zoom's GET /Users list answer (parse_user_list, lib/zoom/scim_client.hpp) — bytes
// from the network, issue 26. Nothing may throw (a string totalResults once aborted h2rd); an accepted
// page has totalResults in 0..10^12 and startIndex in 1..10^12.
#include "zoom/scim_client.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto page = h2r::parse_user_list(text, 1, "list users");
  if (page) {
    if (page->total < 0 || page->total > 1'000'000'000'000) std::abort();
    if (page->start_index < 1 || page->start_index > 1'000'000'000'000) std::abort();
  } else if (page.error().message.empty()) {
    std::abort();
  }
  return 0;
}
