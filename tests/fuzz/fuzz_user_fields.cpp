// libFuzzer target: read_user_fields (lib/zoom/user_fields.hpp), which reads Zoom's create answer
// without nlohmann, must accept exactly the texts nlohmann::json::sax_parse accepts and take the same
// top-level id, userName and active as a SAX reader does. Any difference aborts.
#include "zoom/user_fields.hpp"
#include "support/user_fields_reference.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  h2r::UserFields expected, got;
  const bool expected_ok = h2r::test::read_user_fields_reference(text, expected);
  const bool ok = h2r::read_user_fields(text, got);
  if (ok != expected_ok) std::abort();
  if (ok && (got.id != expected.id || got.user_name != expected.user_name || got.active != expected.active))
    std::abort();
  return 0;
}
