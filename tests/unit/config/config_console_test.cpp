// The `console` section of h2rd.yaml: defaults beside the database, paths from the config's folder,
// each bad value named at its line.
#include "config/config.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace std::chrono_literals;

TEST_CASE("config console: the token file defaults to <database>.console-tokens, enabled, sessions of 8h") {
  test::TempDir dir;
  auto config = load_config(dir.write("h2rd.yaml", "database: state/h2r.db\n").string());
  REQUIRE(config);
  CHECK(config->console.enabled);
  CHECK(config->console.tokens == (dir.path() / "state/h2r.db.console-tokens").string());
  CHECK(config->console.session_ttl == 8h);
}

TEST_CASE("config console: every key is read, and bad values are named with their line") {
  test::TempDir dir;
  auto config = load_config(
      dir.write("h2rd.yaml", "console:\n  enabled: false\n  tokens: secrets/t\n  session_ttl: 30m\n").string());
  REQUIRE(config);
  CHECK_FALSE(config->console.enabled);
  CHECK(config->console.tokens == (dir.path() / "secrets/t").string());
  CHECK(config->console.session_ttl == 30min);
  auto bad = load_config(dir.write("bad.yaml", "console:\n  session_ttl: 30s\n  colour: red\n").string());
  REQUIRE_FALSE(bad);
  std::string all;
  for (const auto& d : bad.error()) all += d.to_string() + "\n";
  CHECK_MESSAGE(all.find(":2:") != std::string::npos, all);
  CHECK_MESSAGE(all.find("console.session_ttl must be from 1m to 7d") != std::string::npos, all);
  CHECK_MESSAGE(all.find("colour") != std::string::npos, all);
}
