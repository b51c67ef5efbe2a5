// What waits for a person in the inbox's rejected/ folder: `h2rd status` and /metrics read it.
#pragma once

#include "core/error.hpp"

#include <string>

namespace h2r {

struct RejectedFiles {
  long long count = 0;       // rejected event files (their NAME.error.txt reports not counted)
  std::string newest;        // name of the most recently rejected one, "" when none
};

// Reads `inbox_dir`/rejected/ (regular files only; subfolders and names starting with '.' ignored).
// A missing folder is no rejected file; any other failure is an error naming the folder.
Result<RejectedFiles> rejected_files(const std::string& inbox_dir);

} // namespace h2r
