// Bounds on loading YAML from admins' files (config and rules): a file size cap, and a cap on the nodes
// a walk of the document visits once aliases are expanded. yaml-cpp shares an anchored node between its
// aliases, so a 1 KB "billion laughs" file parses small but any walk of it is exponential; the count is
// taken from the parser's events, before any node is built, in time linear in the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace h2r::yaml {

struct Limits {
  std::uint64_t max_bytes = 1u << 20;  // 1 MiB: far beyond any hand-written config or rules file
  std::uint64_t max_nodes = 100'000;   // scalars, lists and maps, each alias counted as what it repeats
};

// A problem found by the bounds checks; line and column 1-based, 0 = unknown.
struct BoundsProblem {
  int line = 0;
  int column = 0;
  std::string message;
};

// Parses the first document of `text` as events and counts its nodes with aliases expanded. nullopt
// when within `max_nodes`; otherwise where the count passed the limit (at the alias that did it, when
// one did) — or an alias that refers to the collection it is inside. YAML syntax errors are not
// reported here (they throw YAML::Exception, as YAML::Load would).
std::optional<BoundsProblem> check_expansion(const std::string& text, std::uint64_t max_nodes);

// The first tab character used as indentation (in the leading white space of a line) on lines
// `first_line` to `last_line` (1-based; last_line 0: to the end), as "tab character at L:C; YAML indents
// with spaces".
std::optional<BoundsProblem> find_indent_tab(const std::string& text, int first_line, int last_line);

// "1 MiB", "512 KiB", "100 bytes".
std::string describe_bytes(std::uint64_t bytes);

// Reads at most `max_bytes` + 1 bytes of `path` into `out` (so that a caller sees a file over the limit
// without reading all of it). False with errno set when the file cannot be opened or read.
bool read_file_prefix(const std::string& path, std::uint64_t max_bytes, std::string& out);
// The same from an open descriptor, from where it stands (the descriptor stays open).
bool read_fd_prefix(int fd, std::uint64_t max_bytes, std::string& out);

} // namespace h2r::yaml
