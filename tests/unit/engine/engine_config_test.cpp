// The engine's settings come from h2rd.yaml in one place (engine/engine_config.hpp), and each one a
// reload hands the engine (EngineLiveOptions) is a key config/config_diff.cpp's table calls live.
#include "config/config_diff.hpp"
#include "engine/engine_config.hpp"

#include <doctest/doctest.h>

#include <functional>

using namespace h2r;

namespace {

const EngineLiveOptions& live(const EngineOptions& options) { return options; }

} // namespace

TEST_CASE("engine_options: each engine setting from its h2rd.yaml key, the rest EngineOptions' defaults") {
  Config config;
  config.timezone = "Europe/Berlin";
  config.max_future_days = 30;
  config.workers = 7;
  config.max_connection_workers = 9;
  config.max_attempts = 3;
  config.retry_base = std::chrono::seconds(1);
  config.retry_max = std::chrono::seconds(2);
  config.claim_lease = std::chrono::seconds(60);
  const EngineOptions options = engine_options(config);
  CHECK(options.time_zone == "Europe/Berlin");
  CHECK(options.max_future_days == 30);
  CHECK(options.workers == 7);
  CHECK(options.max_connection_workers == 9);
  CHECK(options.max_attempts == 3);
  CHECK(options.retry_base == std::chrono::seconds(1));
  CHECK(options.retry_max == std::chrono::seconds(2));
  CHECK(options.claim_lease == std::chrono::seconds(60));
  const EngineOptions defaults;
  CHECK_FALSE(options.once);
  CHECK(options.owner.empty());
  CHECK(options.batch == defaults.batch);
  CHECK(options.unhealthy_recheck == defaults.unhealthy_recheck);
  CHECK_FALSE(options.on_outcome);
}

TEST_CASE("engine_options: every key behind a live engine option is live in the reload's table, claim_lease is not") {
  const Config base;
  const std::vector<std::pair<std::string, std::function<void(Config&)>>> edits = {
      {"timezone", [](Config& c) { c.timezone = "Asia/Tokyo"; }},
      {"limits.max_future_days", [](Config& c) { c.max_future_days = 10; }},
      {"scheduler.workers", [](Config& c) { c.workers = 2; }},
      {"scheduler.max_connection_workers", [](Config& c) { c.max_connection_workers = 5; }},
      {"retry.max_attempts", [](Config& c) { c.max_attempts = 4; }},
      {"retry.base", [](Config& c) { c.retry_base = std::chrono::seconds(5); }},
      {"retry.max", [](Config& c) { c.retry_max = std::chrono::hours(1); }},
  };
  for (const auto& edit : edits) {
    const std::string& key = edit.first;
    CAPTURE(key);
    Config edited = base;
    edit.second(edited);
    // The edit reaches the engine's live options ...
    CHECK(live(engine_options(edited)) != live(engine_options(base)));
    // ... and a reload adopts it: the diff names it live, and adopting the live keys carries it over.
    const auto changes = diff_config(base, edited);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].key == key);
    CHECK(changes[0].live);
    Config running = base;
    adopt_live_keys(running, edited);
    CHECK(live(engine_options(running)) == live(engine_options(edited)));
  }
  Config edited = base;
  edited.claim_lease = std::chrono::minutes(5);
  CHECK(live(engine_options(edited)) == live(engine_options(base)));   // not a live engine option
  CHECK_FALSE(is_live_key("scheduler.claim_lease"));
}
