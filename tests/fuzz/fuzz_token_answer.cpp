// libFuzzer target: Zoom's token answer (parse_token_answer, lib/zoom/token_cache.hpp) and the reading of
// an OAuth error body (zoom_error_detail, lib/zoom/zoom_errors.hpp) — bytes from the network, issue 26.
// Nothing may throw; an accepted token is bounded visible ASCII the header check accepts, with a lifetime of at most a day;
// a detail has no control character left (server_text escapes them).
#include "zoom/token_cache.hpp"
#include "zoom/zoom_errors.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto answer = h2r::parse_token_answer(text);
  if (answer) {
    const std::string& token = answer->access_token.reveal();
    if (token.empty() || token.size() > h2r::k_max_access_token_bytes) std::abort();
    if (!h2r::header_problem("Authorization", "Bearer " + token).empty()) std::abort();
    if (answer->lifetime.count() <= 0 || answer->lifetime > std::chrono::hours(24)) std::abort();
  }
  const std::string detail = h2r::zoom_error_detail(text);
  for (const char c : detail)
    if (static_cast<unsigned char>(c) < 0x20) std::abort();
  return 0;
}
