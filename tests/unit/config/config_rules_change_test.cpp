// Config: `rules:` as a path or as { path, on_change } (issue 13: rules edits converge).
#include "config/config.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace h2r;

namespace {

struct Folder {
  fs::path path;
  Folder() {
    std::string templ = (fs::temp_directory_path() / "h2r-config-rules-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& text) const {
    std::ofstream(path / "h2rd.yaml", std::ios::binary) << text;
    return (path / "h2rd.yaml").string();
  }
};

} // namespace

TEST_CASE("config rules.on_change: resync by default, manual as a map, with the path beside the config") {
  Folder dir;
  auto plain = load_config(dir.write("rules: r.yaml\n"));
  REQUIRE(plain);
  CHECK(plain->rules_on_change == "resync");
  CHECK(plain->rules == (dir.path / "r.yaml").string());
  auto map = load_config(dir.write("rules: { path: r2.yaml, on_change: manual }\n"));
  REQUIRE(map);
  CHECK(map->rules_on_change == "manual");
  CHECK(map->rules == (dir.path / "r2.yaml").string());
  auto only_mode = load_config(dir.write("rules:\n  on_change: resync\n"));
  REQUIRE(only_mode);
  CHECK(only_mode->rules == (dir.path / "rules.yaml").string());
}

TEST_CASE("config rules.on_change: a bad value or key names the field and line") {
  Folder dir;
  auto bad = load_config(dir.write("rules: { path: r.yaml, on_change: later }\n"));
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().size() == 1);
  CHECK(bad.error()[0].line == 1);
  CHECK(bad.error()[0].to_string().find("rules.on_change") != std::string::npos);
  auto unknown = load_config(dir.write("rules:\n  path: r.yaml\n  onchange: manual\n"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error()[0].line == 3);
  CHECK(unknown.error()[0].to_string().find("onchange") != std::string::npos);
}
