// Issue 12: a paused connection is "not now", never a reason to fail an event. `run --once` against a
// Zoom that fails 30 % of its calls and loses 30 % of its creates' answers: the adaptive circuit
// breaker opens and probes, events wait as `pending` without losing attempts, and every hire ends
// `done`, once, with no duplicate user.
#include "e2e/resilience_helpers.hpp"

using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

int count_in(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

} // namespace

TEST_CASE("e2e resilience: run --once with 30% 5xx and 30% lost creates on 200 hires fails none, duplicates none") {
  H2rEnvOptions options;
  options.sim_args = {"--fail-rate", "0.3", "--lost-create-rate", "0.3", "--seed", "12"};
  // An attempt here needs two or three calls that each fail 30-50 % of the time: about 0.6 of the
  // attempts fail, so 12 attempts would leave 0.6^12 ≈ 0.2 % of the events failed (about one in 200)
  // for the retry policy's own reasons. 40 attempts take that out, so what is checked is the breaker.
  // Short cool-downs keep the test quick; the breaker's shape (window, ratio) is the default.
  options.extra_config = "retry: { max_attempts: 40, base: 50ms, max: 500ms }\n"
                         "breaker: { cooldown: 200ms, max_cooldown: 2s }\n";
  H2rEnv env(options);
  env.drop("hires.json", hires_json(200));
  auto run = env.h2rd({"run", "--once", "--max-wait", "10m"}, {}, 280'000ms);
  INFO(run.err.substr(run.err.size() > 4000 ? run.err.size() - 4000 : 0));
  CHECK(run.exit_code == 0);
  MESSAGE("circuit opened " << count_in(run.err, "connection.circuit_open") << " times");
  auto events = env.events();
  CHECK(count_state(events, "failed") == 0);
  CHECK(count_state(events, "done") == 200);
  CHECK(run.out.find("run --once: done=200 skipped=0 failed=0 held=0 pending=0") != std::string::npos);
  check_each_hire_once(env, 200);
  auto stats = env.sim().stats();
  CHECK(stats["creates_applied"] == 200);
  CHECK(stats["status"].value("502", 0) > 0);   // the faults were exercised
}

TEST_CASE("e2e resilience: run --once leaves events pending after --max-wait, exit 0, and the summary says so") {
  H2rEnvOptions options;
  options.sim_args = {"--fail-rate", "1"};   // Zoom is down: every SCIM call answers 5xx
  options.extra_config = "retry: { max_attempts: 40, base: 1h, max: 2h }\n";
  H2rEnv env(options);
  env.drop("hires.json", hires_json(3));
  auto run = env.h2rd({"run", "--once", "--max-wait", "1s"});
  INFO(run.err);
  CHECK(run.exit_code == 0);   // nothing failed: the events wait for their next attempt
  CHECK(run.out.find("failed=0 held=0 pending=3 (next attempt ") != std::string::npos);
  for (const auto& e : env.events()) {
    CHECK(e["state"] == "pending");
    CHECK(e["attempts"].get<int>() >= 1);   // each tried (and failed) at least once, none used up
  }
  CHECK(env.h2rd({"run", "--max-wait", "1s"}).exit_code == 2);              // only with --once
  CHECK(env.h2rd({"run", "--once", "--max-wait", "soon"}).exit_code == 2);  // not a duration
}
