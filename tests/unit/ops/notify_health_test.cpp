// SdNotifier (datagrams to a test socket, abstract names too) and the health verdict.
#include "ops/health.hpp"
#include "ops/sd_notify.hpp"
#include "support/temp_dir.hpp"
#include "unit/ops/notify_listener.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <unistd.h>

using namespace h2r;
using namespace std::chrono_literals;

TEST_CASE("ops: sd_notify sends one datagram per message to a path or an abstract socket" * doctest::test_suite("threads")) {
  test::TempDir dir;
  const std::string abstract = "@h2r-test-notify-" + std::to_string(::getpid());
  for (const std::string& name : {(dir.path() / "notify.sock").string(), abstract}) {
    CAPTURE(name);
    test::NotifyListener listener(name);
    SdNotifier notifier(name);
    CHECK(notifier.enabled());
    CHECK(notifier.send("READY=1\nSTATUS=serving"));
    CHECK(notifier.send("STOPPING=1"));
    REQUIRE(listener.wait_for("STOPPING=1", 5s) >= 0);
    auto messages = listener.messages();
    REQUIRE(messages.size() == 2);
    CHECK(messages[0] == "READY=1\nSTATUS=serving");
  }
}

TEST_CASE("ops: sd_notify is a no-op without a socket and fails quietly on a bad one" * doctest::test_suite("threads")) {
  CHECK_FALSE(SdNotifier().enabled());
  CHECK_FALSE(SdNotifier().send("READY=1"));
  CHECK_FALSE(SdNotifier("relative/name").send("READY=1"));
  CHECK_FALSE(SdNotifier("/nonexistent/h2r/notify.sock").send("READY=1"));
}

TEST_CASE("ops: the watchdog interval is half of WATCHDOG_USEC, and only for our pid" * doctest::test_suite("threads")) {
  CHECK_FALSE(SdNotifier("/x").watchdog_interval());
  CHECK(SdNotifier("/x", 400'000us).watchdog_interval() == 200'000us);

  ::setenv("NOTIFY_SOCKET", "@h2r-env-test", 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);
  ::unsetenv("WATCHDOG_PID");
  CHECK(SdNotifier::from_environment().enabled());
  CHECK(SdNotifier::from_environment().watchdog_interval() == 200'000us);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  CHECK(SdNotifier::from_environment().watchdog_interval() == 200'000us);
  ::setenv("WATCHDOG_PID", "1", 1);   // meant for another process
  CHECK_FALSE(SdNotifier::from_environment().watchdog_interval());
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("NOTIFY_SOCKET");
  CHECK_FALSE(SdNotifier::from_environment().enabled());
}

TEST_CASE("ops: MONOTONIC_USEC carries the monotonic clock in microseconds" * doctest::test_suite("threads")) {
  std::string text = SdNotifier::monotonic_usec();
  REQUIRE(text.rfind("MONOTONIC_USEC=", 0) == 0);
  const long long usec = std::stoll(text.substr(15));
  const long long now_usec =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  CHECK(usec > 0);
  CHECK(usec <= now_usec);   // steady_clock is CLOCK_MONOTONIC on Linux
}

TEST_CASE("ops: heartbeat age and the health verdict" * doctest::test_suite("threads")) {
  Heartbeat heartbeat;
  const auto now = std::chrono::steady_clock::now();
  heartbeat.beat_at(now - 300s);
  CHECK(heartbeat.age(now) == 300'000ms);
  heartbeat.beat_at(now + 1s);
  CHECK(heartbeat.age(now) == 0ms);

  struct Case {
    std::chrono::milliseconds age;
    bool db_ok;
    bool ok;
    const char* reason_part;
  };
  const Case cases[] = {
      {0ms, true, true, "ok"},
      {120'000ms, true, true, "ok"},                       // at the limit: still fresh
      {120'001ms, true, false, "scheduler is stuck"},
      {300'000ms, true, false, "300.0 s old"},
      {0ms, false, false, "database does not answer: disk I/O error"},
      {300'000ms, false, false, "stuck; database does not answer"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.age.count());
    CAPTURE(c.db_ok);
    Result<void> db = c.db_ok ? Result<void>{} : Result<void>(fail(ErrorKind::transient, "disk I/O error"));
    HealthReport report = evaluate_health(c.age, k_heartbeat_max_age, db);
    CHECK(report.ok == c.ok);
    CHECK(report.reason.find(c.reason_part) != std::string::npos);
  }
}
