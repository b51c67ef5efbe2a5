// libFuzzer target: parse_event_file(FileFormat::json, input).
#include "event_file_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return h2r::fuzz::fuzz_event_file(h2r::FileFormat::json, data, size);
}
