// Diagnostic: one problem found in a file a person wrote (config, rules), with its place.
#pragma once

#include <string>
#include <vector>

namespace h2r {

struct Diagnostic {
  std::string file;
  int line = 0;     // 1-based; 0 = the file as a whole
  int column = 0;   // 1-based; 0 = unknown
  std::string message;
  bool warning = false;

  // "file:line:col: message", or "file:line:col: warning: message"; line/col left out when 0.
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics& diagnostics);

} // namespace h2r
