// Operating h2rd: `h2rd run` as a child under a fake systemd (NOTIFY_SOCKET, WATCHDOG_USEC), signals,
// reloads, /metrics, /healthz and `h2rd status`.
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"
#include "ops/status_server.hpp"
#include "unit/ops/notify_listener.hpp"

#include <fstream>
#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <regex>
#include <sstream>

using namespace h2r;
using namespace std::chrono_literals;

namespace {

constexpr auto k_wait = 20s;   // upper bound for anything the daemon should do "promptly"

const char* k_rules_v1 = "version: 1\ntargets: [{connection: zoom}]\nroles: [{name: all}]\nattributes: { userName: \"{email}\" }\n";
const char* k_rules_v2 = "version: 1\ntargets: [{connection: zoom}]\nroles: [{name: everyone}]\nattributes: { userName: \"{email}\" }\n";
const char* k_rules_broken = "version: 1\ntargets: [{connection: zoom}]\nroles: [{name: all, when: {field: x, frobnicate: 1}}]\nattributes: { userName: \"{email}\" }\n";

struct OpsDaemon {
  test::TempDir dir;
  std::string config;
  std::unique_ptr<test::NotifyListener> notify;
  std::unique_ptr<test::ChildProcess> child;

  explicit OpsDaemon(const std::string& listen = "127.0.0.1:0") {
    config = dir.write("h2rd.yaml", "scheduler: { interval: 500ms, workers: 1 }\nlisten: \"" + listen +
                                        "\"\nlog: { level: debug, format: text }\n")
                 .string();
    dir.write("rules.yaml", k_rules_v1);
    notify = std::make_unique<test::NotifyListener>((dir.path() / "notify.sock").string());
  }
  void start() {
    child = std::make_unique<test::ChildProcess>(
        std::vector<std::string>{test::h2rd_path(), "-c", config, "run"},
        test::Env{{"NOTIFY_SOCKET", notify->name()}, {"WATCHDOG_USEC", "400000"}});
  }
  test::ProcessResult cli(std::vector<std::string> words) const {
    words.insert(words.begin(), {test::h2rd_path(), "-c", config});
    return test::run_process(words);
  }
  nlohmann::json status() const {
    auto r = cli({"status", "--json"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return nlohmann::json::parse(r.out);
  }
  int metrics_port() const {
    std::string listen = status()["daemon"]["metrics"].get<std::string>();
    return std::stoi(listen.substr(listen.rfind(':') + 1));
  }
};

} // namespace

TEST_CASE("ops: h2rd run speaks systemd's notify protocol: READY, WATCHDOG, RELOADING/READY, STOPPING" * doctest::test_suite("threads")) {
  OpsDaemon d;
  d.start();
  const int ready = d.notify->wait_for("READY=1", k_wait);
  REQUIRE_MESSAGE(ready >= 0, d.child->err());
  CHECK(d.notify->messages()[static_cast<std::size_t>(ready)].find("MAINPID=" + std::to_string(d.child->pid())) !=
        std::string::npos);
  // The watchdog is fed at half of WATCHDOG_USEC while the scheduler is alive.
  const int first_ping = d.notify->wait_for("WATCHDOG=1", k_wait);
  REQUIRE(first_ping >= 0);
  CHECK(d.notify->wait_for("WATCHDOG=1", k_wait, static_cast<std::size_t>(first_ping) + 1) > first_ping);
  CHECK(d.notify->wait_for("STATUS=queue pending=0", k_wait) >= 0);

  d.dir.write("rules.yaml", k_rules_v2);
  d.child->send_signal(SIGHUP);
  const int reloading = d.notify->wait_for("RELOADING=1", k_wait);
  REQUIRE(reloading >= 0);
  CHECK(std::regex_search(d.notify->messages()[static_cast<std::size_t>(reloading)], std::regex("MONOTONIC_USEC=[0-9]+")));
  const int ready_again = d.notify->wait_for("READY=1", k_wait, static_cast<std::size_t>(reloading) + 1);
  REQUIRE(ready_again > reloading);
  CHECK(d.notify->messages()[static_cast<std::size_t>(ready_again)].find("STATUS=reloaded") != std::string::npos);

  d.child->send_signal(SIGTERM);
  auto code = d.child->wait(k_wait);
  REQUIRE_MESSAGE(code.has_value(), "h2rd did not stop within the wait after SIGTERM");
  CHECK(*code == 0);
  CHECK(d.notify->wait_for("STOPPING=1", 1s) > ready_again);
  CHECK(d.child->err().find("daemon.stopped") != std::string::npos);
  // After a clean stop, status says so.
  auto status = d.status();
  CHECK(status["daemon"]["state"] == "stopped");
  CHECK(status["daemon"]["up"] == false);
}

TEST_CASE("ops: SIGHUP with a broken rules file keeps serving with the old rules, and status says why" * doctest::test_suite("threads")) {
  OpsDaemon d;
  d.start();
  REQUIRE_MESSAGE(d.notify->wait_for("READY=1", k_wait) >= 0, d.child->err());
  auto before = d.status();
  CHECK(before["daemon"]["state"] == "running");
  CHECK(before["daemon"]["pid"] == d.child->pid());
  const std::string version = before["rules"]["version"];
  REQUIRE_FALSE(version.empty());

  d.dir.write("rules.yaml", k_rules_broken);
  const std::size_t mark = d.notify->messages().size();
  d.child->send_signal(SIGHUP);
  const int failed = d.notify->wait_for("reload FAILED", k_wait, mark);
  REQUIRE_MESSAGE(failed >= 0, d.child->err());
  CHECK(d.notify->messages()[static_cast<std::size_t>(failed)].find("READY=1") != std::string::npos);
  CHECK(d.child->running());
  auto after = d.status();
  CHECK(after["rules"]["version"] == version);
  CHECK(after["rules"]["error"].get<std::string>().find("rules.yaml:3:") != std::string::npos);
  CHECK(after["daemon"]["state"] == "running");
  auto text = d.cli({"status"});
  CHECK(text.out.find("the last reload FAILED") != std::string::npos);
  CHECK(d.child->err().find("rules.reload_failed") != std::string::npos);
  // Still serving: /healthz is fine and the metrics name the old rules.
  httplib::Client client("127.0.0.1", d.metrics_port());
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(client.Get("/metrics")->body.find("h2r_rules_info{version=\"" + version + "\"} 1") != std::string::npos);

  // Fixed file, reload again: the error is gone and the new rules are in force.
  d.dir.write("rules.yaml", k_rules_v2);
  const std::size_t mark2 = d.notify->messages().size();
  d.child->send_signal(SIGHUP);
  REQUIRE(d.notify->wait_for("STATUS=reloaded", k_wait, mark2) >= 0);
  auto fixed = d.status();
  CHECK(fixed["rules"]["error"].is_null());   // absent: null, never "" or "-"
  CHECK(fixed["rules"]["version"] != version);
  CHECK(d.child->stop(k_wait) == 0);
}

TEST_CASE("ops: /metrics is valid Prometheus text and /healthz answers 200 while serving" * doctest::test_suite("threads")) {
  OpsDaemon d;
  d.start();
  REQUIRE_MESSAGE(d.notify->wait_for("STATUS=queue", k_wait) >= 0, d.child->err());
  const int port = d.metrics_port();
  CHECK(d.child->err().find("metrics.listening address=127.0.0.1 port=" + std::to_string(port)) != std::string::npos);
  httplib::Client client("127.0.0.1", port);
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type").find("text/plain; version=0.0.4") == 0);
  for (const char* family : {"h2r_build_info", "h2r_rules_info", "h2r_events_total", "h2r_queue_events",
                             "h2r_scim_requests_total", "h2r_scim_request_duration_seconds", "h2r_tokens_fetched_total",
                             "h2r_rate_limit_waits_total", "h2r_last_cycle_timestamp_seconds", "h2r_cycles_total",
                             "h2r_attribute_changes_total", "h2r_group_changes_total"}) {
    CAPTURE(family);
    CHECK(metrics->body.find(std::string("# TYPE ") + family + " ") != std::string::npos);
  }
  CHECK(metrics->body.find("h2r_queue_events{state=\"pending\"} 0") != std::string::npos);
  auto promtool = test::run_process({"sh", "-c", "command -v promtool"});
  if (promtool.exit_code == 0) {
    auto check = test::run_process({"promtool", "check", "metrics"}, metrics->body);
    CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
  } else {
    MESSAGE("SKIPPED (promtool): promtool not installed (Debian package `prometheus`); only the local format checks ran");
  }
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  CHECK(client.Get("/nothing")->status == 404);

  d.child->send_signal(SIGINT);
  auto code = d.child->wait(k_wait);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(d.notify->count("STOPPING=1") == 1);
}

TEST_CASE("ops: /healthz turns 503 naming the cause when the database file is deleted or replaced" * doctest::test_suite("threads")) {
  OpsDaemon d;
  d.start();
  REQUIRE_MESSAGE(d.notify->wait_for("STATUS=queue", k_wait) >= 0, d.child->err());
  httplib::Client client("127.0.0.1", d.metrics_port());
  client.set_read_timeout(k_wait);
  REQUIRE(client.Get("/healthz"));
  CHECK(client.Get("/healthz")->status == 200);
  const auto db = d.dir.path() / "h2r.db";
  const auto aside = d.dir.path() / "h2r.db.aside";

  std::filesystem::rename(db, aside);   // as `rm` would look to h2rd: the name is gone, the fd still works
  auto deleted = client.Get("/healthz");
  REQUIRE(deleted);
  CHECK(deleted->status == 503);
  CHECK(deleted->body.find("database file " + db.string() + " was deleted") != std::string::npos);

  std::filesystem::copy_file(aside, db);   // another file under the old name
  auto replaced = client.Get("/healthz");
  REQUIRE(replaced);
  CHECK(replaced->status == 503);
  CHECK(replaced->body.find("was replaced on disk") != std::string::npos);

  std::filesystem::remove(db);
  std::filesystem::rename(aside, db);   // the very file again
  auto back = client.Get("/healthz");
  REQUIRE(back);
  CHECK(back->status == 200);

  d.child->send_signal(SIGTERM);
  CHECK(d.child->wait(k_wait).has_value());
}

TEST_CASE("ops: a listen address that cannot be bound stops h2rd run at start with exit 1" * doctest::test_suite("threads")) {
  // Another h2rd holds the port (same socket options as h2rd's own endpoint).
  StatusServer occupier({[] { return std::string(); }, [] { return HealthReport{}; }});
  auto bound = occupier.start("127.0.0.1:0");
  REQUIRE(bound.has_value());
  const int port = *bound;
  OpsDaemon d("127.0.0.1:" + std::to_string(port));
  auto r = test::run_process({test::h2rd_path(), "-c", d.config, "run"}, {}, {{"NOTIFY_SOCKET", d.notify->name()}});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("h2rd: cannot start: listen: cannot bind 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(d.notify->count("READY=1") == 0);
}

TEST_CASE("ops: SIGHUP re-reads the console token file: an added token works, a removed one is refused" * doctest::test_suite("threads")) {
  OpsDaemon d;
  d.start();
  REQUIRE_MESSAGE(d.notify->wait_for("READY=1", k_wait) >= 0, d.child->err());
  const auto tokens_path = d.dir.path() / "h2r.db.console-tokens";
  REQUIRE(std::filesystem::exists(tokens_path));
  std::ifstream in(tokens_path);
  std::string line, role, name, admin;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') std::istringstream(line) >> role >> name >> admin;
  REQUIRE(name == "admin");
  const std::string added(64, 'e');
  httplib::Client client("127.0.0.1", d.metrics_port());
  auto get = [&](const std::string& token) {
    auto r = client.Get("/api/v1/status", {{"Authorization", "Bearer " + token}});
    REQUIRE(r);
    return r->status;
  };
  CHECK(get(admin) == 200);
  CHECK(get(added) == 401);

  {
    std::ofstream out(tokens_path, std::ios::trunc);
    out << "viewer hr-team " << added << "\n";
  }
  const std::size_t mark = d.notify->messages().size();
  d.child->send_signal(SIGHUP);
  REQUIRE(d.notify->wait_for("STATUS=reloaded", k_wait, mark) >= 0);
  CHECK(get(added) == 200);
  CHECK(get(admin) == 401);
  CHECK(d.child->err().find("console.tokens_reloaded") != std::string::npos);
  CHECK(d.child->err().find(added) == std::string::npos);   // never a token in the log
  CHECK(d.child->stop(k_wait) == 0);
}
