// Metrics rendering (Prometheus text format 0.0.4) and the /metrics + /healthz endpoint.
#include "ops/metrics.hpp"
#include "ops/observed_transport.hpp"
#include "ops/status_server.hpp"
#include "support/process.hpp"

#include <doctest/doctest.h>

#include <vector>
#include <httplib.h>

#include <map>
#include <regex>
#include <sstream>

using namespace h2r;
using namespace std::chrono_literals;

namespace {

// sample line "name{labels} value" → value, keyed by "name{labels}"; checks every line's shape.
std::map<std::string, double> parse_exposition(const std::string& text) {
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (\S+)$)");
  static const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    CAPTURE(line);
    if (line.rfind("#", 0) == 0) {
      CHECK(std::regex_match(line, comment));
      continue;
    }
    std::smatch m;
    REQUIRE(std::regex_match(line, m, sample));
    auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  CHECK((!text.empty() && text.back() == '\n'));
  return out;
}

} // namespace

TEST_CASE("ops: metrics render counters, a cumulative histogram and live gauges" * doctest::test_suite("threads")) {
  Metrics metrics;
  metrics.observe_scim({"zoom-main", "POST", "/Users", 201, 30ms});
  metrics.observe_scim({"zoom-main", "POST", "/Users", 201, 200ms});
  metrics.observe_scim({"zoom-main", "GET", "/Users", 429, 3ms});
  metrics.observe_scim({"zoom-main", "GET", "/Users", 0, 45'000ms});
  metrics.count_token(true);
  metrics.count_token(false);
  metrics.count_event("hire", "done");
  metrics.count_event("hire", "done");
  metrics.count_event("terminate", "failed");
  metrics.count_cycle(1.5, 1'700'000'000'000);
  metrics.count_store_write_failure("record_outcome");
  metrics.count_store_write_failure("record_outcome");
  metrics.count_config_reload(true);
  metrics.count_config_reload(true);
  metrics.count_config_reload(false);
  LiveGauges live;
  live.queue = {{"pending", 3}, {"failed", 1}};
  live.rules_version = "abc123";
  live.heartbeat_age_seconds = 2.5;
  live.rejected_files = 11;
  const std::string text = metrics.render(live);
  auto values = parse_exposition(text);
  if (test::run_process({"sh", "-c", "command -v promtool"}).exit_code == 0) {
    auto check = test::run_process({"promtool", "check", "metrics"}, text);
    CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
  } else {
    MESSAGE("SKIPPED (promtool): promtool not installed (Debian package `prometheus`)");
  }

  CHECK(values["h2r_scim_requests_total{connection=\"zoom-main\",method=\"POST\",status=\"201\"}"] == 2);
  CHECK(values["h2r_scim_requests_total{connection=\"zoom-main\",method=\"GET\",status=\"429\"}"] == 1);
  CHECK(values["h2r_scim_requests_total{connection=\"zoom-main\",method=\"GET\",status=\"none\"}"] == 1);
  CHECK(values["h2r_rate_limit_waits_total{connection=\"zoom-main\"}"] == 1);
  CHECK(values["h2r_scim_request_duration_seconds_bucket{connection=\"zoom-main\",le=\"0.005\"}"] == 1);
  CHECK(values["h2r_scim_request_duration_seconds_bucket{connection=\"zoom-main\",le=\"0.05\"}"] == 2);
  CHECK(values["h2r_scim_request_duration_seconds_bucket{connection=\"zoom-main\",le=\"0.25\"}"] == 3);
  CHECK(values["h2r_scim_request_duration_seconds_bucket{connection=\"zoom-main\",le=\"30\"}"] == 3);
  CHECK(values["h2r_scim_request_duration_seconds_bucket{connection=\"zoom-main\",le=\"+Inf\"}"] == 4);
  CHECK(values["h2r_scim_request_duration_seconds_count{connection=\"zoom-main\"}"] == 4);
  CHECK(values["h2r_scim_request_duration_seconds_sum{connection=\"zoom-main\"}"] == doctest::Approx(45.233));
  CHECK(values["h2r_tokens_fetched_total{result=\"ok\"}"] == 1);
  CHECK(values["h2r_tokens_fetched_total{result=\"error\"}"] == 1);
  CHECK(values["h2r_events_total{type=\"hire\",state=\"done\"}"] == 2);
  CHECK(values["h2r_events_total{type=\"terminate\",state=\"failed\"}"] == 1);
  CHECK(values["h2r_queue_events{state=\"pending\"}"] == 3);
  CHECK(values["h2r_inbox_rejected_files"] == 11);
  CHECK(values["h2r_rules_info{version=\"abc123\"}"] == 1);
  CHECK(values["h2r_cycles_total"] == 1);
  CHECK(values["h2r_config_reloads_total{result=\"ok\"}"] == 2);
  CHECK(values["h2r_config_reloads_total{result=\"failed\"}"] == 1);
  CHECK(values["h2r_store_write_failures_total{what=\"record_outcome\"}"] == 2);
  CHECK(values["h2r_last_cycle_timestamp_seconds"] == doctest::Approx(1'700'000'000.0));
  CHECK(values["h2r_last_cycle_duration_seconds"] == doctest::Approx(1.5));
  CHECK(values["h2r_scheduler_heartbeat_age_seconds"] == doctest::Approx(2.5));
  CHECK(values["h2r_healthy"] == 1);
  bool build_info = false;
  for (const auto& [key, v] : values) build_info = build_info || (key.rfind("h2r_build_info{version=", 0) == 0 && v == 1);
  CHECK(build_info);
}

TEST_CASE("ops: label values are escaped" * doctest::test_suite("threads")) {
  CHECK(escape_label_value(R"(a"b\c)") == R"(a\"b\\c)");
  CHECK(escape_label_value("line\nbreak") == "line\\nbreak");
  Metrics metrics;
  metrics.observe_scim({"odd \"name\"\n", "GET", "/Users", 200, 1ms});
  auto values = parse_exposition(metrics.render({}));
  CHECK(values["h2r_scim_requests_total{connection=\"odd \\\"name\\\"\\n\",method=\"GET\",status=\"200\"}"] == 1);
  CHECK(values.count("h2r_rules_info") == 0);   // no rules in force: no sample
}

namespace {

struct ScriptedTransport final : HttpTransport {
  int status = 200;
  int async_calls = 0;
  std::vector<Done> pending;   // send_async's callbacks, called by the test when it likes
  Result<HttpResponse> send(const HttpRequest&) override {
    HttpResponse r;
    r.status = status;
    return r;
  }
  void send_async(HttpRequest, Done done) override {
    ++async_calls;
    pending.push_back(std::move(done));
  }
};

} // namespace

TEST_CASE("ops: token requests are counted by the observing transport, other requests are not" * doctest::test_suite("threads")) {
  Metrics metrics;
  ScriptedTransport inner;
  ObservedTransport transport(inner, metrics);
  HttpRequest token{"POST", "http://127.0.0.1:1/oauth/token?grant_type=account_credentials&account_id=a", {}, "", ""};
  HttpRequest scim{"GET", "http://127.0.0.1:1/scim2/Users", {}, "", ""};
  CHECK(ObservedTransport::is_token_request(token));
  CHECK_FALSE(ObservedTransport::is_token_request(scim));
  (void)transport.send(token);
  (void)transport.send(scim);
  inner.status = 401;
  (void)transport.send(token);
  auto values = parse_exposition(metrics.render({}));
  CHECK(values["h2r_tokens_fetched_total{result=\"ok\"}"] == 1);
  CHECK(values["h2r_tokens_fetched_total{result=\"error\"}"] == 1);
}

// Issue 30: a fiber's call goes through send_async; a decorator that fell back to the blocking send()
// would hold the fiber's thread for the whole call.
TEST_CASE("ops: the observing transport passes send_async on, and still counts the token answers it sees" *
          doctest::test_suite("threads")) {
  Metrics metrics;
  ScriptedTransport inner;
  ObservedTransport transport(inner, metrics);
  int answered = 0;
  transport.send_async({"GET", "http://127.0.0.1:1/scim2/Users", {}, "", ""}, [&](Result<HttpResponse>) { ++answered; });
  transport.send_async({"POST", "http://127.0.0.1:1/oauth/token?grant_type=account_credentials&account_id=a", {}, "", ""},
                       [&](Result<HttpResponse>) { ++answered; });
  CHECK(inner.async_calls == 2);
  CHECK(answered == 0);   // nothing waited for an answer
  HttpResponse ok;
  ok.status = 200;
  for (auto& done : inner.pending) done(ok);
  CHECK(answered == 2);
  auto values = parse_exposition(metrics.render({}));
  CHECK(values["h2r_tokens_fetched_total{result=\"ok\"}"] == 1);
}

TEST_CASE("ops: parse_listen" * doctest::test_suite("threads")) {
  struct Case {
    const char* text;
    bool ok;
    const char* host;
    int port;
  };
  const Case cases[] = {
      {"127.0.0.1:9464", true, "127.0.0.1", 9464}, {"127.0.0.1:0", true, "127.0.0.1", 0},
      {"[::1]:9464", true, "::1", 9464},           {"localhost:80", true, "localhost", 80},
      {"127.0.0.1", false, "", 0},                 {":9464", false, "", 0},
      {"::1:9464", false, "", 0},                  {"127.0.0.1:99999", false, "", 0},
      {"127.0.0.1:x", false, "", 0},               {"[::1]9464", false, "", 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto r = parse_listen(c.text);
    REQUIRE(r.has_value() == c.ok);
    if (c.ok) {
      CHECK(r->host == c.host);
      CHECK(r->port == c.port);
    } else {
      CHECK(r.error().kind == ErrorKind::invalid);
      CHECK(r.error().message.find(std::string("listen: '") + c.text + "'") == 0);
    }
  }
}

TEST_CASE("ops: the status server serves /metrics and turns /healthz 503 when the heartbeat is stale" * doctest::test_suite("threads")) {
  Heartbeat heartbeat;
  StatusServer server({[] { return std::string("h2r_up 1\n"); },
                       [&] { return evaluate_health(heartbeat.age(), k_heartbeat_max_age, Result<void>{}); }});
  auto port = server.start("127.0.0.1:0");
  REQUIRE(port.has_value());
  REQUIRE(*port > 0);
  CHECK(server.port() == *port);
  httplib::Client client("127.0.0.1", *port);
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->body == "h2r_up 1\n");
  CHECK(metrics->get_header_value("Content-Type").find("version=0.0.4") != std::string::npos);

  auto healthy = client.Get("/healthz");
  REQUIRE(healthy);
  CHECK(healthy->status == 200);
  CHECK(healthy->body == "ok\n");

  heartbeat.beat_at(std::chrono::steady_clock::now() - k_heartbeat_max_age - 5s);   // the scheduler is stuck
  auto stuck = client.Get("/healthz");
  REQUIRE(stuck);
  CHECK(stuck->status == 503);
  CHECK(stuck->body.find("scheduler is stuck") != std::string::npos);

  heartbeat.beat();
  CHECK(client.Get("/healthz")->status == 200);

  // The same port again: a clear bind error.
  StatusServer second({[] { return std::string(); }, [] { return HealthReport{}; }});
  auto clash = second.start("127.0.0.1:" + std::to_string(*port));
  REQUIRE_FALSE(clash.has_value());
  CHECK(clash.error().kind == ErrorKind::permanent);
  CHECK(clash.error().message.find("cannot bind 127.0.0.1:" + std::to_string(*port)) != std::string::npos);
  server.stop();
  server.stop();   // idempotent
}

TEST_CASE("metrics: claims, rescues, lease losses, live daemons and the leader") {
  Metrics metrics;
  LiveGauges live;
  auto before = parse_exposition(metrics.render(live));
  CHECK(before.at("h2r_claims_total") == 0);
  CHECK(before.at("h2r_claim_rescues_total") == 0);
  CHECK(before.at("h2r_lease_losses_total") == 0);
  CHECK(before.at("h2r_daemons") == 1);
  CHECK(before.at("h2r_leader") == 1);
  metrics.count_claims(5, 2);
  metrics.count_claims(3, 0);
  metrics.count_lease_loss();
  live.daemons = 3;
  live.leader = false;
  auto after = parse_exposition(metrics.render(live));
  CHECK(after.at("h2r_claims_total") == 8);
  CHECK(after.at("h2r_claim_rescues_total") == 2);
  CHECK(after.at("h2r_lease_losses_total") == 1);
  CHECK(after.at("h2r_daemons") == 3);
  CHECK(after.at("h2r_leader") == 0);
}

TEST_CASE("metrics: pacing grants and fallbacks by connection, only where the daemon drew on the database") {
  Metrics metrics;
  LiveGauges live;
  auto alone = parse_exposition(metrics.render(live));
  CHECK(alone.count("h2r_pace_grants_total{connection=\"zoom-a\"}") == 0);
  live.pace["zoom-a"] = {12, 1};
  live.pace["zoom-\"b\""] = {3, 0};
  auto shared = parse_exposition(metrics.render(live));
  CHECK(shared.at("h2r_pace_grants_total{connection=\"zoom-a\"}") == 12);
  CHECK(shared.at("h2r_pace_fallbacks_total{connection=\"zoom-a\"}") == 1);
  CHECK(shared.at("h2r_pace_grants_total{connection=\"zoom-\\\"b\\\"\"}") == 3);
  CHECK(shared.at("h2r_pace_fallbacks_total{connection=\"zoom-\\\"b\\\"\"}") == 0);
}

TEST_CASE("metrics: SCIM calls and 429s per hour for the last 24 hours, an hour a day old begun again") {
  Metrics m;
  constexpr long long hour = 3'600'000;
  const long long t = 1'000 * 24 * hour + 30 * 60'000;   // half past midnight, UTC
  m.count_call_hour(t - 24 * hour, false);              // a day before, in the ring slot of t's hour
  m.count_call_hour(t - hour, false);                   // the hour before
  m.count_call_hour(t, false);                          // t's hour begins its slot again
  m.count_call_hour(t + 1, true);
  auto hours = m.calls_by_hour(t);
  REQUIRE(hours.size() == Metrics::k_hours_kept);
  CHECK(hours.back().hour_ms == t - 30 * 60'000);
  CHECK(hours.back().calls == 2);
  CHECK(hours.back().throttled == 1);
  CHECK(hours[hours.size() - 2].calls == 1);
  CHECK(hours.front().hour_ms == hours.back().hour_ms - 23 * hour);
  long long total = 0;
  for (const auto& h : hours) total += static_cast<long long>(h.calls);
  CHECK(total == 3);
  // A day later the same slot of the ring counts its new hour from zero.
  m.count_call_hour(t + 24 * hour, false);
  auto next_day = m.calls_by_hour(t + 24 * hour);
  CHECK(next_day.back().calls == 1);
  CHECK(next_day.back().throttled == 0);
}
