// Issue 28 ("docs from one source"): h2rd.yaml(5) documents every key the config reader accepts, and
// no key the reader refuses. The reader's keys are not copied here by hand: they are asked of the
// reader itself, which names the keys it allows when it refuses an unknown one (yaml::Reader::map).
#include "config/config.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace h2r;

namespace {

constexpr const char* k_probe = "zz_no_such_key";

// The keys `load_config` allows in the map at `section` ("" = the top level), from its refusal of an
// unknown key there: "unknown key 'zz_no_such_key' in WHAT (allowed: a, b or c)". Empty when `section`
// is no map (a scalar-only key such as timezone).
std::set<std::string> allowed_in(const test::TempDir& dir, const std::string& section) {
  const std::string text = section.empty() ? std::string(k_probe) + ": 1\n" : section + ": { " + k_probe + ": 1 }\n";
  auto config = load_config(dir.write("h2rd.yaml", text).string());
  std::set<std::string> keys;
  if (config) return keys;
  for (const auto& d : config.error()) {
    const std::string message = d.to_string();
    const auto unknown = message.find(std::string("unknown key '") + k_probe + "'");
    const auto list = message.find("(allowed: ", unknown == std::string::npos ? 0 : unknown);
    if (unknown == std::string::npos || list == std::string::npos) continue;
    std::string names = message.substr(list + 10, message.find(')', list) - list - 10);
    for (std::size_t at; (at = names.find(" or ")) != std::string::npos;) names.replace(at, 4, ", ");
    std::istringstream words(names);
    for (std::string word; std::getline(words, word, ',');) {
      while (!word.empty() && word.front() == ' ') word.erase(0, 1);
      if (!word.empty()) keys.insert(word);
    }
  }
  return keys;
}

// Every key the reader accepts, dotted ("scheduler.workers"); a key that takes a scalar or a map
// ("database", "rules") is there in both forms ("database", "database.url").
std::set<std::string> reader_keys(const test::TempDir& dir) {
  std::set<std::string> out;
  for (const auto& top : allowed_in(dir, "")) {
    out.insert(top);
    for (const auto& sub : allowed_in(dir, top)) out.insert(top + "." + sub);
  }
  return out;
}

std::string man_page() {
  std::ifstream in(std::string(test::source_dir()) + "/docs/man/h2rd.yaml.5");
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The keys the page documents: each entry ".BI key: ..." (a dotted name, or a map form
// ".BI "rules: { path: " ... names its inner keys as rules.path ...).
std::set<std::string> documented_keys(const std::string& page) {
  std::set<std::string> out;
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(".BI ")) continue;
    std::string entry = line.substr(4);
    entry.erase(std::remove(entry.begin(), entry.end(), '"'), entry.end());
    const auto colon = entry.find(':');
    if (colon == std::string::npos || entry.find(' ') < colon) continue;
    const std::string key = entry.substr(0, colon);
    out.insert(key);
    const auto open = entry.find('{');
    if (open == std::string::npos || key.find('.') != std::string::npos) continue;
    // "{ url: URL, password_file: path }": each inner name before a colon.
    std::istringstream inner(entry.substr(open + 1, entry.find('}') - open - 1));
    for (std::string part; std::getline(inner, part, ',');) {
      while (!part.empty() && part.front() == ' ') part.erase(0, 1);
      if (const auto c = part.find(':'); c != std::string::npos) out.insert(key + "." + part.substr(0, c));
    }
  }
  return out;
}

// What the page and the reader disagree on, one line each. A section is documented through its keys
// ("log.level"), not as "log:" itself.
std::vector<std::string> drift(const std::set<std::string>& accepted, const std::set<std::string>& documented) {
  std::vector<std::string> out;
  for (const auto& key : accepted) {
    bool section = false;
    for (const auto& other : accepted) section = section || other.starts_with(key + ".");
    if (!documented.count(key) && !section) out.push_back("accepted by the reader, not in h2rd.yaml(5): " + key);
  }
  for (const auto& key : documented)
    if (!accepted.count(key)) out.push_back("in h2rd.yaml(5), refused by the reader: " + key);
  return out;
}

} // namespace

TEST_CASE("config docs: h2rd.yaml(5) documents every key the reader accepts, and no key it refuses") {
  test::TempDir dir;
  const auto accepted = reader_keys(dir);
  // The probe works: the top level and a section answer with their keys.
  REQUIRE(accepted.count("timezone") == 1);
  REQUIRE(accepted.count("scheduler.workers") == 1);
  REQUIRE(accepted.count("database.password_file") == 1);
  const auto documented = documented_keys(man_page());
  for (const auto& problem : drift(accepted, documented)) FAIL_CHECK(problem);

  // The check can fail: a page that misspells one key and leaves out every other is refused for both.
  const auto broken = drift(accepted, documented_keys(".TP\n.BI scheduler.wrokers: \" n\"\nText.\n"));
  CHECK(std::find(broken.begin(), broken.end(), "in h2rd.yaml(5), refused by the reader: scheduler.wrokers") != broken.end());
  CHECK(std::find(broken.begin(), broken.end(), "accepted by the reader, not in h2rd.yaml(5): scheduler.workers") != broken.end());
}
