// Issue 26, Zoom's side: a broken or malicious server posing as Zoom (tests/support/hostile_server.hpp)
// never crashes h2rd, leaks the connection's secret, smuggles a request or hangs it — through the real
// h2rd binary (`connection test`, `run --once`, `reconcile`) and its SQLite file.
#include "support/eventually.hpp"
#include "support/h2r_env.hpp"
#include "support/hostile_server.hpp"
#include "support/test_paths.hpp"
#include "support/file_text.hpp"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

using namespace h2r::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_secret = "hostile-client-secret-5b1f0c9e";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// An h2r installation whose connection zoom-main points at a HostileServer.
struct HostileZoom {
  HostileServer zoom;
  H2rEnv env;

  explicit HostileZoom(const std::string& extra_config = "") : env(options(extra_config)) {
    auto r = env.h2rd({"connection", "add", "zoom-main", "--account-id", "acc-h", "--client-id", "cid-h",
                       "--client-secret-stdin", "--oauth-url", zoom.oauth_url(), "--api-url", zoom.api_url()},
                      std::string(k_secret) + "\n");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  static H2rEnvOptions options(const std::string& extra_config) {
    H2rEnvOptions o;
    o.add_connection = false;
    o.extra_config = extra_config;
    return o;
  }
  ProcessResult h2rd(const std::vector<std::string>& args, int timeout_s = 60) const {
    return env.h2rd(args, {}, std::chrono::seconds(timeout_s));
  }
  void hire() const { env.drop("hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill"))); }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The largest resident set of any child this test process has waited for, in MiB.
long max_child_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return usage.ru_maxrss / 1024;
}

// The signal mask a process ignores (SigIgn in /proc/PID/status), 0 when unreadable.
unsigned long long ignored_signals(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("SigIgn:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  return 0;
}

} // namespace

TEST_CASE("e2e hostile zoom: a token with CR LF and a smuggled DELETE is never sent, h2rd names the problem") {
  HostileZoom h;
  h.zoom.on_token(HostileServer::token("abc\r\nX-Injected: 1\r\n\r\nDELETE /scim2/Users/victim HTTP/1.1\r\nHost: "
                                       "127.0.0.1\r\nContent-Length: 0\r\n\r\n"));
  auto test = h.h2rd({"connection", "test", "zoom-main"});
  INFO(test.err);
  CHECK(test.exit_code == 1);
  CHECK(contains(test.err, "access_token has characters a bearer token may not have"));

  h.hire();
  auto run = h.h2rd({"run", "--once", "--max-wait", "2s"});
  INFO(run.err);
  CHECK(run.exit_code == 0);   // a server's fault: the hire stays pending
  CHECK(contains(run.out, "pending=1"));

  for (const auto& seen : h.zoom.requests()) {
    CHECK(seen.method != "DELETE");
    CHECK_FALSE(seen.headers.count("X-Injected"));
    CHECK(seen.path != "/scim2/Users/victim");
  }
}

TEST_CASE("e2e hostile zoom: a list answer whose totalResults is a string fails connection test and reconcile cleanly") {
  HostileZoom h("retry: { base: 50ms, max: 200ms }\n");   // reconcile tries a transient error again: quickly here
  h.zoom.on_scim(HostileServer::json(200, R"({"totalResults":"12","startIndex":1,"Resources":[]})"));
  auto test = h.h2rd({"connection", "test", "zoom-main"});
  INFO(test.err);
  CHECK(test.exit_code == 1);   // not 134 (SIGABRT of an uncaught type_error)
  CHECK(contains(test.err, "totalResults is \"12\", not an integer"));
  auto tested = h.env.h2rd_json({"connection", "show", "zoom-main"});
  CHECK(contains(tested.dump(), "totalResults"));

  auto reconcile = h.h2rd({"reconcile"});
  INFO(reconcile.err);
  CHECK(reconcile.exit_code == 1);
  CHECK(contains(reconcile.err, "totalResults is \"12\""));

  h.zoom.on_scim(HostileServer::json(200, R"({"totalResults":3,"Resources":{"id":"u1"}})"));
  reconcile = h.h2rd({"reconcile"});
  CHECK(reconcile.exit_code == 1);
  CHECK(contains(reconcile.err, "Resources is not an array (JSON type object)"));
}

TEST_CASE("e2e hostile zoom: an 8 MiB token kills neither connection test nor run --once (no SIGPIPE)") {
  HostileZoom h;
  h.zoom.on_token(HostileServer::token(std::string(8u << 20, 'a')));
  auto test = h.h2rd({"connection", "test", "zoom-main"});
  INFO(test.err);
  CHECK(test.exit_code == 1);   // not 141
  CHECK(contains(test.err, "larger than 1 MiB"));

  h.hire();
  auto run = h.h2rd({"run", "--once", "--max-wait", "2s"});
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.out, "run --once: done=0 skipped=0 failed=0 held=0 pending=1"));
}

TEST_CASE("e2e hostile zoom: the h2rd daemon ignores SIGPIPE: a peer closing a socket fails one call, not the process") {
  HostileZoom h;
  ChildProcess daemon({h2rd_path(), "-c", h.env.config_path(), "run"});
  const unsigned long long sigpipe = 1ull << (SIGPIPE - 1);
  CHECK(eventually([&] { return (ignored_signals(daemon.pid()) & sigpipe) != 0; }, std::chrono::seconds(10)));
  CHECK(daemon.running());
}

TEST_CASE("e2e hostile zoom: a token endpoint echoing the client secret leaks it nowhere") {
  HostileZoom h;
  h.zoom.on_token(HostileServer::json(
      400, json{{"error", "invalid_request"}, {"reason", std::string("client secret ") + k_secret + " is not valid for acc-h"}}
               .dump()));
  std::string seen;
  auto keep = [&seen](const ProcessResult& r) {
    seen += r.out + r.err;
    return r;
  };
  auto test = keep(h.h2rd({"connection", "test", "zoom-main"}));
  CHECK(test.exit_code == 1);
  CHECK(contains(test.err, "is not valid for acc-h"));   // the reason is shown, without the secret
  keep(h.h2rd({"connection", "test", "zoom-main", "--json"}));
  h.hire();
  keep(h.h2rd({"run", "--once", "--max-wait", "2s"}));
  keep(h.h2rd({"connection", "list", "--json"}));
  keep(h.h2rd({"connection", "show", "zoom-main", "--json"}));
  keep(h.h2rd({"events", "list", "--json"}));
  keep(h.h2rd({"events", "show", "evt-1"}));
  keep(h.h2rd({"status", "--json"}));
  CHECK(contains(seen, "[redacted]"));
  CHECK_FALSE(contains(seen, k_secret));
  for (const auto& entry : fs::recursive_directory_iterator(h.env.dir().path())) {
    if (!entry.is_regular_file()) continue;
    INFO(entry.path().string());
    CHECK_FALSE(contains(file_text(entry.path()), k_secret));
  }
}

TEST_CASE("e2e hostile zoom: a 1 byte/s answer ends at zoom.call_deadline for connection test and run --once") {
  HostileZoom h("zoom: { call_deadline: 2s }\n");
  const std::string list = R"({"totalResults":0,"startIndex":1,"Resources":[]})";
  h.zoom.on_scim(h.zoom.drip(list));
  auto start = std::chrono::steady_clock::now();
  auto test = h.h2rd({"connection", "test", "zoom-main"}, 30);
  INFO(test.err);
  CHECK_FALSE(test.timed_out);
  CHECK(test.exit_code == 1);
  CHECK(contains(test.err, "within 2s (zoom.call_deadline)"));
  CHECK(seconds_since(start) < 10);

  h.hire();
  start = std::chrono::steady_clock::now();
  auto run = h.h2rd({"run", "--once", "--max-wait", "10s"}, 60);
  INFO(run.err);
  CHECK_FALSE(run.timed_out);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.out, "pending=1"));
  CHECK(seconds_since(start) < 20);

  h.zoom.on_token(h.zoom.drip(json{{"access_token", "abc"}, {"expires_in", 3600}}.dump()));
  start = std::chrono::steady_clock::now();
  test = h.h2rd({"connection", "test", "zoom-main"}, 30);
  CHECK(test.exit_code == 1);
  CHECK(contains(test.err, "within 2s"));
  CHECK(seconds_since(start) < 10);
}

TEST_CASE("e2e hostile zoom: a 100 MiB token answer is cut off at 1 MiB, h2rd stays small") {
  HostileZoom h;
  // The measure is the largest child this process waited for: meaningful while none before was as large
  // (ctest runs each case in a process of its own).
  const bool measurable = max_child_rss_mib() < 100;
  std::atomic<std::size_t> sent{0};
  h.zoom.on_token(h.zoom.big(100u << 20, 'a', &sent));
  auto test = h.h2rd({"connection", "test", "zoom-main"});
  INFO(test.err);
  CHECK(test.exit_code == 1);
  CHECK(contains(test.err, "larger than 1 MiB, the most h2r reads"));
  CHECK(sent.load() < (100u << 20));
  if (measurable) CHECK(max_child_rss_mib() < 100);

  // SCIM answers have their own cap (zoom.max_answer_bytes).
  HostileZoom small("zoom: { max_answer_bytes: 1MiB }\n");
  small.zoom.on_scim(small.zoom.big(50u << 20, ' '));
  test = small.h2rd({"connection", "test", "zoom-main"});
  CHECK(test.exit_code == 1);
  CHECK(contains(test.err, "larger than 1 MiB"));
  if (measurable) CHECK(max_child_rss_mib() < 100);
}

TEST_CASE("e2e hostile zoom: reconcile stops when the server ignores startIndex and claims 10^9 users") {
  HostileZoom h;
  h.zoom.on_scim(HostileServer::json(
      200, R"({"totalResults":1000000000,"startIndex":1,"Resources":[{"id":"u1","userName":"a@example.com","active":true}]})"));
  auto reconcile = h.h2rd({"reconcile"}, 30);
  INFO(reconcile.err);
  CHECK_FALSE(reconcile.timed_out);
  CHECK(reconcile.exit_code == 1);
  CHECK(contains(reconcile.err, "(it does not page): stopped"));

  // Without startIndex in the answer, the same page twice gives it away.
  h.zoom.on_scim(HostileServer::json(
      200, R"({"totalResults":1000000000,"Resources":[{"id":"u1","userName":"a@example.com","active":true}]})"));
  reconcile = h.h2rd({"reconcile"}, 30);
  CHECK_FALSE(reconcile.timed_out);
  CHECK(reconcile.exit_code == 1);
  CHECK(contains(reconcile.err, "lists only users listed before (it does not page): stopped"));
}

// Issue 25: `run --once --max-wait` is a bound under a 429 storm, whatever Zoom's Retry-After says.
namespace {

// Zoom's answer to every SCIM call: 429 with this Retry-After (no header when nullopt).
HostileServer::Handler too_many_requests(std::optional<std::string> retry_after) {
  return [retry_after](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    if (retry_after) res.set_header("Retry-After", *retry_after);
    res.set_content(R"({"detail":"Too many requests"})", "application/json");
  };
}

constexpr int k_storm_hires = 4;
constexpr double k_storm_max_wait_s = 3;

// A few hires dropped, then `run --once --max-wait 3s` against a Zoom answering every SCIM call with
// 429: it ends (well before the 60 s harness timeout, while a run honouring an hour's Retry-After would
// not), every hire still pending (none failed), after at most `max_calls` requests (token and SCIM).
// `at_token`: the token endpoint answers 429 instead.
void storm_run_is_bounded(const std::optional<std::string>& retry_after, std::size_t max_calls, bool at_token = false) {
  CAPTURE(retry_after.value_or("(none)"));
  HostileZoom h;
  if (at_token)
    h.zoom.on_token(too_many_requests(retry_after));
  else
    h.zoom.on_scim(too_many_requests(retry_after));
  const std::vector<std::string> names = {"Ann", "Bob", "Cid", "Dee"};   // k_storm_hires Zoom users
  for (int i = 0; i < k_storm_hires; ++i)
    h.env.drop("hire-" + std::to_string(i) + ".json",
               event_json("evt-" + std::to_string(i), "hire", employee("E10" + std::to_string(i), names.at(i), "Storm")));
  const std::size_t before = h.zoom.requests().size();   // `connection add` tested the connection
  const auto start = std::chrono::steady_clock::now();
  auto run = h.h2rd({"run", "--once", "--max-wait", "3s"}, 60);
  const double took = seconds_since(start);
  INFO(run.out);
  INFO(run.err);
  INFO("took " << took << " s");
  CHECK_FALSE(run.timed_out);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.out, "failed=0"));
  CHECK(contains(run.out, "pending=" + std::to_string(k_storm_hires)));
  // Generous: the bound is max-wait plus the last cycle's calls, not a measurement.
  CHECK(took < k_storm_max_wait_s + 20);
  const std::size_t calls = h.zoom.requests().size() - before;
  std::string seen;
  for (const auto& r : h.zoom.requests()) seen += r.method + " " + r.path + "\n";
  INFO("requests at zoom: " << calls << "\n" << seen);
  MESSAGE("run --once took " << took << " s, " << calls << " requests at zoom");
  CHECK(calls >= 1);
  CHECK(calls <= max_calls);
  auto listed = h.env.h2rd_json({"events", "list", "--json"});
  INFO(listed.dump());
  CHECK_FALSE(contains(listed.dump(), "\"failed\""));
}

} // namespace

TEST_CASE("e2e hostile zoom: 429 storm with Retry-After 3600 or 30 - run --once --max-wait 3s ends, the hires stay pending") {
  // 3600: longer than a call waits inline (ScimClientOptions::max_inline_wait, lib/zoom/scim_client.hpp).
  // 30: shorter, so waited out inside a call unless run --once hands it back to its budget.
  // The token, then at most one request per hire: the first 429 pauses the connection for every worker.
  for (std::string retry_after : {"3600", "30"}) storm_run_is_bounded(retry_after, 1 + k_storm_hires);
}

// Without a Retry-After (or with one h2r cannot read) a 429 pauses the connection for
// ScimClientOptions::default_retry_after, 1 s (lib/zoom/scim_client.hpp). run --once does not wait that
// out inside the call (max_inline_pause 0, lib/daemon/daemon.cpp): each hire sends at most one request a
// cycle, and a cycle comes at most every 0.7 s (the pause less the 0.3 s four paced requests take at the
// default 10/s, k_default_rate_limit in lib/engine/connection_registry.hpp), so 5 cycles in 3 s: the
// token and 4 × 5 requests. (Waited out inside each call, 5 times — max_rate_limit_retries — it was 25
// requests and 5.5 s.)
constexpr std::size_t k_storm_default_pause_calls = 1 + k_storm_hires * 5;

TEST_CASE("e2e hostile zoom: 429 storm with Retry-After 0 or none - run --once --max-wait 3s ends without hammering Zoom") {
  // Retry-After 0: each call retries at once, paced, max_rate_limit_retries (5) times, then the hire
  // takes an attempt and backs off (EngineOptions::retry_base 30 s, randomized, lib/engine/engine.hpp):
  // the token and 4 × 6 requests, and room for four second attempts whose backoff fell inside 3 s.
  storm_run_is_bounded("0", 1 + k_storm_hires * 6 + 4 * 6);
  storm_run_is_bounded(std::nullopt, k_storm_default_pause_calls);
}

TEST_CASE("e2e hostile zoom: 429 storm with a huge or garbage Retry-After - run --once --max-wait 3s ends") {
  // Huge: clamped to k_max_retry_after (lib/zoom/zoom_errors.hpp), a day: the hires wait for the next run.
  for (std::string retry_after : {"99999999999", "Wed, 21 Oct 2099 07:28:00 GMT"})
    storm_run_is_bounded(retry_after, 1 + k_storm_hires);
  // Unreadable: the default pause, as without a Retry-After.
  for (std::string retry_after : {"-5", "1e400", "soon"}) storm_run_is_bounded(retry_after, k_storm_default_pause_calls);
}

TEST_CASE("e2e hostile zoom: 429 storm at the token endpoint - run --once --max-wait 3s ends, the hires stay pending") {
  // A token request per hire and attempt (a refused token is not cached); the hires back off as above.
  for (std::optional<std::string> retry_after :
       {std::optional<std::string>("0"), std::optional<std::string>(), std::optional<std::string>("3600")})
    storm_run_is_bounded(retry_after, 2 * k_storm_hires + 4, true);
}

namespace {

// Page `start` (1-based, 100 a page) of a users list of `total` users u1..uN, as Zoom answers it.
std::string user_page(int total, long long start) {
  json resources = json::array();
  for (long long i = start; i < start + 100 && i <= total; ++i)
    resources.push_back({{"id", "u" + std::to_string(i)}, {"userName", "u" + std::to_string(i) + "@example.com"}, {"active", true}});
  return json{{"schemas", {"urn:ietf:params:scim:api:messages:2.0:ListResponse"}}, {"totalResults", total},
              {"startIndex", start}, {"itemsPerPage", resources.size()}, {"Resources", resources}}.dump();
}

long long start_index_of(const httplib::Request& req) {
  return req.has_param("startIndex") ? std::stoll(req.get_param_value("startIndex")) : 1;
}

} // namespace

TEST_CASE("e2e hostile zoom: reconcile retries a 500 while paging and reports every user, a persistent 500 ends it after the retries") {
  HostileZoom h("retry: { base: 50ms, max: 200ms }\n");
  std::atomic<int> lists{0};
  std::atomic<bool> failed_once{false};
  // The second page's first answer is a 500; every other answer is the page asked for.
  h.zoom.on_scim([&](const httplib::Request& req, httplib::Response& res) {
    ++lists;
    const long long start = start_index_of(req);
    if (start > 1 && !failed_once.exchange(true)) {
      res.status = 500;
      res.set_content(R"({"detail":"internal error"})", "application/json");
      return;
    }
    res.status = 200;
    res.set_content(user_page(150, start), "application/scim+json");
  });
  auto once = h.h2rd({"reconcile", "--json"});
  INFO(once.err);
  CHECK(once.exit_code == 0);   // no employee: 150 unaccounted Zoom users, no drift
  auto report = json::parse(once.out, nullptr, false);
  REQUIRE(report.is_object());
  CHECK(report["zoom_users"] == 150);
  CHECK(report["unaccounted"] == 150);
  CHECK(lists.load() == 3);   // page 1, page 2's 500, page 2 again
  CHECK(contains(once.err, "reconcile.retry"));

  // Every answer a 500: retry.max_attempts (12 by default) is bounded to 5 tries, then exit 1 naming it.
  auto lists_sent = [&] {
    int n = 0;
    for (const auto& r : h.zoom.requests()) n += r.method == "GET" && r.path == "/scim2/Users";
    return n;
  };
  const int before = lists_sent();
  h.zoom.on_scim(HostileServer::json(500, R"({"detail":"internal error"})"));
  auto always = h.h2rd({"reconcile"});
  INFO(always.err);
  CHECK(always.exit_code == 1);
  CHECK(contains(always.err, "Zoom answered 500 \"internal error\" (tried 5 times)"));
  CHECK(lists_sent() - before == 5);
}
