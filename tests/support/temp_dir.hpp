// TempDir: a fresh directory for one test, removed with everything in it on destruction.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace h2r::test {

class TempDir {
public:
  // Creates "$TMPDIR/h2r-test-XXXXXX" (or under /tmp) with mkdtemp; throws std::runtime_error on failure.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  // path() / name; the file need not exist.
  std::filesystem::path file(std::string_view name) const;
  // Writes `text` to path() / name (creating parent folders), replacing any old content; returns the path.
  std::filesystem::path write(std::string_view name, std::string_view text) const;

private:
  std::filesystem::path m_path;
};

} // namespace h2r::test
