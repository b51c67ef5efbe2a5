// YamlReader: typed access to a parsed YAML document that turns every problem into a Diagnostic with
// the file, 1-based line and column, so that one run reports them all. Shared by config and rules.
#pragma once

#include "yaml/yaml_bounds.hpp"
#include "core/diagnostic.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace h2r::yaml {

// The keys of one YAML map in file order, with their key and value nodes.
class MapView {
public:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  const YAML::Node& node() const { return m_node; }
  const std::vector<Entry>& entries() const { return m_entries; }
  // The value of `key`, or nullptr when the key is absent.
  const YAML::Node* get(std::string_view key) const;
  const Entry* entry(std::string_view key) const;

private:
  friend class Reader;
  YAML::Node m_node;
  std::vector<Entry> m_entries;
};

// Collects diagnostics for one file. Every accessor reports what is wrong (naming `what`, the dotted
// place in the document, and what would be right) and returns nullopt; callers carry on, so that all
// problems are found in one pass. Not thread-safe; used for one load.
class Reader {
public:
  Reader(std::string file, Diagnostics& out, Limits limits = {})
      : m_file(std::move(file)), m_out(out), m_limits(limits) {}

  const std::string& file() const { return m_file; }
  Diagnostics& diagnostics() { return m_out; }
  bool failed() const { return has_errors(m_out); }

  // Parses `text`; a syntax error becomes a diagnostic at its place and nullopt is returned, as does a
  // text over the size limit or one whose walk would visit more nodes than the limit (an alias bomb).
  // Callers then walk the tree freely: it is bounded.
  std::optional<YAML::Node> parse(const std::string& text);

  void error(const YAML::Node& at, std::string message);
  void warning(const YAML::Node& at, std::string message);
  void error_at(int line, int column, std::string message);  // 1-based; 0 = unknown

  // `node` as a map whose keys are all in `allowed`: unknown keys (naming the allowed ones), duplicate
  // keys and non-string keys are reported. nullopt (reported) when `node` is not a map.
  std::optional<MapView> map(const YAML::Node& node, std::string_view what,
                             std::initializer_list<std::string_view> allowed);
  // Reports a missing required key (at the map) and returns false when absent.
  bool require(const MapView& map, std::string_view key, std::string_view what);

  std::optional<std::string> string(const YAML::Node& node, std::string_view what);  // any scalar
  std::optional<std::string> non_empty_string(const YAML::Node& node, std::string_view what);
  std::optional<bool> boolean(const YAML::Node& node, std::string_view what);
  std::optional<long long> integer(const YAML::Node& node, std::string_view what, long long min,
                                   long long max);
  // One of `choices` (exact spelling).
  std::optional<std::string> choice(const YAML::Node& node, std::string_view what,
                                    std::initializer_list<std::string_view> choices);
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node, std::string_view what);
  std::optional<std::uint64_t> size(const YAML::Node& node, std::string_view what);
  // `node` as a list (nullopt, reported, when not a list).
  std::optional<std::vector<YAML::Node>> list(const YAML::Node& node, std::string_view what);

private:
  std::string m_file;
  Diagnostics& m_out;
  Limits m_limits;
};

// Orders diagnostics by place in the file (line, then column), keeping the order of equal places.
void sort_by_place(Diagnostics& diagnostics);
// 1-based (line, column) of a node; (0, 0) when unknown.
std::pair<int, int> position(const YAML::Node& node);
// A short description of a node for messages: 'text' for scalars, "a map", "a list", "nothing".
std::string describe(const YAML::Node& node);
// "a, b or c".
std::string join_choices(std::initializer_list<std::string_view> choices);

// "500ms", "30s", "2m", "1h", "1d", or sums like "1h30m"; nullopt when malformed or overflowing.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// "1048576", "512B", "64KiB", "64MiB", "1GiB", "10KB", "10MB", "1GB"; nullopt when malformed.
std::optional<std::uint64_t> parse_size(std::string_view text);

} // namespace h2r::yaml
