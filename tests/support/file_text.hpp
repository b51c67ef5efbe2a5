// The bytes of a file the tests read back (a report, a processed event file, a man page, a config).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace h2r::test {

// The whole file as it is on disk; empty when it cannot be opened (a test that needs it checks so).
inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace h2r::test
