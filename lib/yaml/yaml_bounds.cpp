#include "yaml/yaml_bounds.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <sstream>
#include <vector>

namespace h2r::yaml {
namespace {

// Thrown out of the parser's callbacks to stop at the first problem.
struct Stop {
  BoundsProblem problem;
};

// Counts nodes as the parser reports them: a scalar or null is 1, a collection 1 plus its contents,
// an alias the expanded size of its anchor (known once the anchored node has ended). Every running
// count stays at or below the limit, so nothing overflows.
class Counter final : public YAML::EventHandler {
public:
  explicit Counter(std::uint64_t max_nodes) : m_max(max_nodes) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnAnchor(const YAML::Mark&, const std::string& name) override { m_pending_name = name; }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(mark, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapEnd() override { close(); }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = m_sizes.find(anchor);
    const std::string name = "*" + m_names[anchor];
    if (it == m_sizes.end())
      throw Stop{{mark.line + 1, mark.column + 1,
                  "alias " + name + " refers to the list or map it is inside (a loop); write that part out"}};
    add(mark, it->second,
        "alias " + name + " repeats " + std::to_string(it->second) + " nodes and makes the document larger than " +
            std::to_string(m_max) + " nodes once aliases are expanded (an alias bomb?); use fewer aliases");
  }

private:
  struct Frame {
    YAML::anchor_t anchor;
    std::uint64_t count;
  };

  void name_anchor(YAML::anchor_t anchor) {
    if (anchor != 0) m_names[anchor] = m_pending_name;
    m_pending_name.clear();
  }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    name_anchor(anchor);
    add(mark, 1, too_many());
    if (anchor != 0) m_sizes[anchor] = 1;
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    name_anchor(anchor);
    if (m_total >= m_max) throw Stop{{mark.line + 1, mark.column + 1, too_many()}};
    ++m_total;
    m_stack.push_back(Frame{anchor, 1});
  }

  void close() {
    if (m_stack.empty()) return;
    const Frame frame = m_stack.back();
    m_stack.pop_back();
    if (frame.anchor != 0) m_sizes[frame.anchor] = frame.count;
    if (!m_stack.empty()) m_stack.back().count += frame.count;  // <= m_total <= m_max
  }

  // Adds `n` nodes at `mark` (n <= m_max, so the sums cannot overflow).
  void add(const YAML::Mark& mark, std::uint64_t n, const std::string& message) {
    if (n > m_max - m_total) throw Stop{{mark.line + 1, mark.column + 1, message}};
    m_total += n;
    if (!m_stack.empty()) m_stack.back().count += n;
  }

  std::string too_many() const {
    return "the document has more than " + std::to_string(m_max) + " nodes (values, lists and maps); split it up";
  }

  std::uint64_t m_max;
  std::uint64_t m_total = 0;
  std::vector<Frame> m_stack;
  std::map<YAML::anchor_t, std::uint64_t> m_sizes;  // anchors whose node has ended
  std::map<YAML::anchor_t, std::string> m_names;
  std::string m_pending_name;
};

} // namespace

std::optional<BoundsProblem> check_expansion(const std::string& text, std::uint64_t max_nodes) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  Counter counter(max_nodes);
  try {
    parser.HandleNextDocument(counter);
  } catch (const Stop& stop) {
    return stop.problem;
  }
  return std::nullopt;
}

std::optional<BoundsProblem> find_indent_tab(const std::string& text, int first_line, int last_line) {
  int line = 1;
  std::size_t start = 0;
  while (last_line <= 0 || line <= last_line) {
    for (std::size_t i = start; line >= first_line && i < text.size(); ++i) {
      if (text[i] == '\t') {
        const int column = static_cast<int>(i - start) + 1;
        return BoundsProblem{line, column,
                             "tab character at " + std::to_string(line) + ":" + std::to_string(column) +
                                 "; YAML indents with spaces"};
      }
      if (text[i] != ' ') break;
    }
    const std::size_t next = text.find('\n', start);
    if (next == std::string::npos) break;
    start = next + 1;
    ++line;
  }
  return std::nullopt;
}

std::string describe_bytes(std::uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

bool read_fd_prefix(int fd, std::uint64_t max_bytes, std::string& out) {
  out.clear();
  const std::uint64_t want = max_bytes + 1;
  char buffer[65536];
  while (out.size() < want) {
    const std::uint64_t room = want - out.size();
    const ssize_t n = ::read(fd, buffer, room < sizeof buffer ? static_cast<std::size_t>(room) : sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return true;
}

bool read_file_prefix(const std::string& path, std::uint64_t max_bytes, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool read = read_fd_prefix(fd, max_bytes, out);
  const int err = errno;
  ::close(fd);
  errno = err;
  return read;
}

} // namespace h2r::yaml
