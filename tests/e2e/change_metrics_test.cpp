// Issue 13: /metrics counts what h2r pushed — h2r_attribute_changes_total by attribute (the rules'
// short name) and kind, h2r_group_changes_total by op — from a real daemon against zoom-sim.
#include "lifecycle_util.hpp"
#include "support/eventually.hpp"
#include "support/test_paths.hpp"

#include <httplib.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

using namespace h2r::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr auto k_wait = 60s;   // generous bound for the daemon to act; not a speed claim

// h2rd.yaml of `env` serving /metrics on an ephemeral port (H2rEnv turns it off).
void listen_anywhere(H2rEnv& env) {
  std::ifstream in(env.config_path());
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  const std::string off = "listen: \"\"\n";
  auto at = config.find(off);
  REQUIRE(at != std::string::npos);
  config.replace(at, off.size(), "listen: \"127.0.0.1:0\"\n");
  std::ofstream(env.config_path(), std::ios::trunc) << config;
}

int metrics_port(H2rEnv& env) {
  int port = 0;
  REQUIRE(eventually([&] {
    auto status = env.h2rd_json({"status"});
    if (!status["daemon"]["metrics"].is_string()) return false;
    const std::string listen = status["daemon"]["metrics"].get<std::string>();
    port = std::stoi(listen.substr(listen.rfind(':') + 1));
    return port > 0;
  }));
  return port;
}

bool all_done(H2rEnv& env, std::size_t count) {
  auto events = env.events();
  return events.size() == count &&
         std::all_of(events.begin(), events.end(), [](const json& e) { return e["state"] == "done"; });
}

// The value of sample `series` in the exposition `text`; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  at += series.size() + 2;
  return std::stod(text.substr(at, text.find('\n', at) - at));
}

std::string changes(const std::string& attribute, const std::string& kind) {
  return "h2r_attribute_changes_total{connection=\"zoom-main\",attribute=\"" + attribute + "\",kind=\"" + kind + "\"}";
}

} // namespace

TEST_CASE("e2e metrics: an applied update shows in h2r_attribute_changes_total as title changed" * doctest::test_suite("threads")) {
  H2rEnv env;
  listen_anywhere(env);
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  httplib::Client client("127.0.0.1", metrics_port(env));
  env.drop("hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill", "Sales")));
  REQUIRE_MESSAGE(eventually([&] { return all_done(env, 1); }), daemon.err());
  auto after_hire = client.Get("/metrics");
  REQUIRE(after_hire);
  CHECK(sample(after_hire->body, changes("title", "set")) == 1);
  CHECK(sample(after_hire->body, changes("userName", "set")) == 1);
  CHECK(sample(after_hire->body, changes("title", "changed")) == -1);

  env.drop("update.json", event_json("evt-2", "update", {{"employee_id", "E1001"}, {"job_title", "Director"}}));
  REQUIRE_MESSAGE(eventually([&] { return all_done(env, 2); }), daemon.err());
  auto after_update = client.Get("/metrics");
  REQUIRE(after_update);
  const std::string& text = after_update->body;
  CHECK(sample(text, changes("title", "changed")) == 1);
  CHECK(sample(text, changes("title", "set")) == 1);                 // the hire's, unchanged
  CHECK(sample(text, changes("enterprise.department", "changed")) == -1);   // only what changed is counted
  CHECK(sample(text, changes("other", "set")) == -1);                // every path of the SPEC rules is known
  if (run_process({"sh", "-c", "command -v promtool"}).exit_code == 0) {
    auto check = run_process({"promtool", "check", "metrics"}, text);
    CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
  } else {
    MESSAGE("SKIPPED (promtool): promtool not installed (Debian package `prometheus`)");
  }
  CHECK(daemon.stop(k_wait) == 0);
}

TEST_CASE("e2e metrics: a role move counts the groups h2r joined and left, and the role's attributes" * doctest::test_suite("threads")) {
  H2rEnvOptions options;
  options.sim_args = {"--group", "Engineering", "--group", "Staff"};
  options.rules = R"(version: 1
targets:
  - connection: zoom-main
roles:
  - name: engineering
    when: { field: department, equals: Engineering }
    zoom: { user_type: Licensed, licenses: { zoomOneBizPlus: true }, groups: [Engineering] }
  - name: staff
    when: { field: employment_type, in: [full_time, part_time] }
    zoom: { user_type: Basic, groups: [Staff] }
on_no_role: deprovision
attributes:
  userName: "{email}"
  title: "{job_title}"
  enterprise.department: "{department}"
)";
  H2rEnv env(options);
  listen_anywhere(env);
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  httplib::Client client("127.0.0.1", metrics_port(env));
  env.drop("hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill", "Sales")));
  REQUIRE_MESSAGE(eventually([&] { return all_done(env, 1); }), daemon.err());
  env.drop("move.json", event_json("evt-2", "update", {{"employee_id", "E1001"}, {"department", "Engineering"}}));
  REQUIRE_MESSAGE(eventually([&] { return all_done(env, 2); }), daemon.err());
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  const std::string& text = metrics->body;
  CHECK(sample(text, "h2r_group_changes_total{connection=\"zoom-main\",op=\"add\"}") == 2);      // Staff, then Engineering
  CHECK(sample(text, "h2r_group_changes_total{connection=\"zoom-main\",op=\"remove\"}") == 1);   // Staff
  CHECK(sample(text, changes("userType", "changed")) == 1);
  CHECK(sample(text, changes("enterprise.department", "changed")) == 1);
  CHECK(sample(text, changes("zoom.licenses.zoomOneBizPlus", "set")) == 1);
  CHECK(sample(text, changes("title", "changed")) == -1);
  CHECK(daemon.stop(k_wait) == 0);
}
