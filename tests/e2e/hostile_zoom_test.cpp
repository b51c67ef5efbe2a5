// Issue 26, Zoom's side: a broken or malicious server posing as Zoom (tests/support/hostile_server.hpp)
// never crashes h2rd, leaks the connection's secret, smuggles a request or hangs it — through the real
// h2rd binary (`connection test`, `run --once`, `reconcile`) and its SQLite file.
#include "support/eventually.hpp"
#include "support/h2r_env.hpp"
#include "support/hostile_server.hpp"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace h2r::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_secret = "hostile-client-secret-5b1f0c9e";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

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
  HostileZoom h;
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
  ChildProcess daemon({H2R_H2RD_PATH, "-c", h.env.config_path(), "run"});
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
    CHECK_FALSE(contains(read_bytes(entry.path()), k_secret));
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
