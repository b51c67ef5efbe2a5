// Webhook alerts (queue, bounded retries, never blocking) and the daemon liveness `h2rd status` shows.
#include "ops/alerts.hpp"
#include "ops/liveness.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <condition_variable>

using namespace h2r;
using namespace std::chrono_literals;

namespace {

// Answers with the scripted statuses in turn (the last one repeats); can hold every send until released.
struct FakeWebhook final : HttpTransport {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int> statuses{200};
  std::vector<HttpRequest> requests;
  bool hold = false;
  std::size_t started = 0;

  Result<HttpResponse> send(const HttpRequest& request) override {
    std::unique_lock lock(mutex);
    ++started;
    cv.notify_all();
    cv.wait(lock, [&] { return !hold; });
    requests.push_back(request);
    HttpResponse r;
    r.status = statuses[std::min(requests.size() - 1, statuses.size() - 1)];
    cv.notify_all();
    return r;
  }
  bool wait_requests(std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 10s, [&] { return requests.size() >= n; });
  }
  bool wait_started(std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 10s, [&] { return started >= n; });
  }
  void release() {
    std::lock_guard lock(mutex);
    hold = false;
    cv.notify_all();
  }
};

AlertOptions fast() {
  AlertOptions o;
  o.retry_delay = 1ms;
  o.drain_on_stop = 5s;
  return o;
}

} // namespace

TEST_CASE("ops: an alert is POSTed as JSON with the alert name and fields" * doctest::test_suite("threads")) {
  FakeWebhook hook;
  AlertSender alerts("http://127.0.0.1:9/hook", hook, fast());
  REQUIRE(alerts.enabled());
  alerts.post("connection.unhealthy", {{"connection", "zoom-main"}, {"reason", "invalid_client"}});
  REQUIRE(hook.wait_requests(1));
  alerts.stop();
  CHECK(alerts.sent() == 1);
  auto body = nlohmann::json::parse(hook.requests[0].body);
  CHECK(hook.requests[0].method == "POST");
  CHECK(hook.requests[0].url == "http://127.0.0.1:9/hook");
  CHECK(hook.requests[0].content_type == "application/json");
  CHECK(body["alert"] == "connection.unhealthy");
  CHECK(body["source"] == "h2rd");
  CHECK(body["connection"] == "zoom-main");
  CHECK(body.contains("time"));
  CHECK(body.contains("host"));
}

TEST_CASE("ops: a failing webhook is retried a bounded number of times, then the alert is dropped" * doctest::test_suite("threads")) {
  FakeWebhook hook;
  hook.statuses = {500, 503, 200};
  {
    AlertSender alerts("http://127.0.0.1:9/hook", hook, fast());
    alerts.post("event.failed", {{"id", 7}});
    REQUIRE(hook.wait_requests(3));
    alerts.stop();
    CHECK(alerts.sent() == 1);
    CHECK(alerts.dropped() == 0);
  }
  FakeWebhook down;
  down.statuses = {500};
  AlertOptions o = fast();
  o.max_attempts = 3;
  AlertSender alerts("http://127.0.0.1:9/hook", down, o);
  alerts.post("guard.held", {{"count", 50}});
  REQUIRE(down.wait_requests(3));
  alerts.stop();
  CHECK(down.requests.size() == 3);
  CHECK(alerts.sent() == 0);
  CHECK(alerts.dropped() == 1);
}

TEST_CASE("ops: post() never blocks: a full queue drops the oldest alert" * doctest::test_suite("threads")) {
  FakeWebhook hook;
  hook.hold = true;   // the sender thread is stuck in its first POST
  AlertOptions o = fast();
  o.max_queued = 2;
  AlertSender alerts("http://127.0.0.1:9/hook", hook, o);
  alerts.post("event.failed", {{"id", 0}});
  REQUIRE(hook.wait_started(1));
  for (int i = 1; i < 5; ++i) alerts.post("event.failed", {{"id", i}});   // returns at once
  hook.release();
  alerts.stop();
  // One was in flight; of the four queued after it only the last two stayed.
  CHECK(alerts.sent() == 3);
  CHECK(alerts.dropped() == 2);
  REQUIRE(hook.requests.size() == 3);
  CHECK(nlohmann::json::parse(hook.requests[2].body)["id"] == 4);
}

TEST_CASE("ops: a reload turns alerts on, moves them to a new webhook, and turns them off" * doctest::test_suite("threads")) {
  FakeWebhook hook;
  AlertSender alerts("", hook, fast());
  alerts.post("event.failed", {{"id", 1}});   // off: nothing queued
  alerts.set_url("http://127.0.0.1:9/first");
  REQUIRE(alerts.enabled());
  alerts.post("event.failed", {{"id", 2}});
  REQUIRE(hook.wait_requests(1));
  alerts.set_url("http://127.0.0.1:9/second");
  alerts.post("event.failed", {{"id", 3}});
  REQUIRE(hook.wait_requests(2));
  alerts.set_url("");
  CHECK_FALSE(alerts.enabled());
  alerts.post("event.failed", {{"id", 4}});
  alerts.stop();
  REQUIRE(hook.requests.size() == 2);
  CHECK(hook.requests[0].url == "http://127.0.0.1:9/first");
  CHECK(nlohmann::json::parse(hook.requests[0].body)["id"] == 2);
  CHECK(hook.requests[1].url == "http://127.0.0.1:9/second");
  CHECK(nlohmann::json::parse(hook.requests[1].body)["id"] == 3);
  CHECK(alerts.sent() == 2);
}

TEST_CASE("ops: no webhook or a malformed one turns alerts off" * doctest::test_suite("threads")) {
  FakeWebhook hook;
  AlertSender none("", hook);
  AlertSender bad("ftp://example.com/x", hook);
  CHECK_FALSE(none.enabled());
  CHECK_FALSE(bad.enabled());
  none.post("event.failed", {});
  bad.post("event.failed", {});
  none.stop();
  bad.stop();
  CHECK(hook.requests.empty());
}

TEST_CASE("ops: daemon liveness from the pid and heartbeat in the store" * doctest::test_suite("threads")) {
  test::TempDir dir;
  auto opened = open_sqlite_store((dir.path() / "h2r.db").string());
  REQUIRE(opened.has_value());
  Store& store = **opened;
  const SystemTime now = from_unix_ms(1'800'000'000'000);
  auto alive = +[](long long pid) { return pid == 4242; };

  CHECK(daemon_liveness(store, now, alive).state == "stopped");   // never ran
  REQUIRE(store.set_meta(k_meta_daemon_pid, "4242"));
  REQUIRE(store.set_meta(k_meta_daemon_heartbeat, std::to_string(to_unix_ms(now - 5s))));
  REQUIRE(store.set_meta(k_meta_metrics_listen, "127.0.0.1:9464"));
  auto live = daemon_liveness(store, now, alive);
  CHECK(live.state == "running");
  CHECK(live.pid == 4242);
  CHECK(live.metrics_listen == "127.0.0.1:9464");
  CHECK(daemon_liveness(store, now + k_heartbeat_stale_after + 10s, alive).state == "stuck");
  REQUIRE(store.set_meta(k_meta_daemon_pid, "4243"));   // the process is gone (crash)
  CHECK(daemon_liveness(store, now, alive).state == "stopped");
  REQUIRE(store.set_meta(k_meta_daemon_pid, ""));       // clean stop
  CHECK(daemon_liveness(store, now, alive).state == "stopped");
  // The default probe: this process is alive.
  REQUIRE(store.set_meta(k_meta_daemon_pid, std::to_string(::getpid())));
  CHECK(daemon_liveness(store, now).state == "running");
}
