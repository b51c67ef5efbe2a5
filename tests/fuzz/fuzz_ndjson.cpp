// libFuzzer target: parse_event_file(FileFormat::ndjson, input).
#include "event_file_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return h2r::fuzz::fuzz_event_file(h2r::FileFormat::ndjson, data, size);
}
