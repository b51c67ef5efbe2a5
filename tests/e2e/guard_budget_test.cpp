// Issue 25 case 3: the guard is a budget over time and over every daemon (h2r-rules(5), lifecycle.guard).
// Before it, the guard counted per claimed batch inside a fixed window of scheduler.interval: 60
// terminates dated 1 s apart all ran, 30 terminates a window later ran beside 30 already run, and two
// daemons each let their first batches through.
//
// The SQLite cases run the real Engine on a fake clock (tests/e2e/clock_rig.hpp) and `h2rd run --once`;
// the "pg …" case runs two `h2rd run` daemons on one PostgreSQL database (skips without a server).
#include "clock_rig.hpp"
#include "lifecycle_util.hpp"
#include "resilience_helpers.hpp"
#include "support/scratch_pg.hpp"
#include "support/test_paths.hpp"

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace h2r::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

FieldPatch person(int i) {
  return {{"email", fmt::format("p{}@example.com", i)}, {"first_name", fmt::format("P{}", i)}, {"job_title", "Engineer"}};
}

// ClockRig at 2026-12-01 09:00 UTC with `n` employees E1…En hired and active at Zoom.
void hire_all(ClockRig& rig, int n) {
  std::vector<HrEvent> hires;
  for (int i = 1; i <= n; ++i)
    hires.push_back(hr_event(fmt::format("h-{}", i), EventType::hire, fmt::format("E{}", i), "2026-11-30", person(i)));
  rig.ingest("hires.json", hires);
  REQUIRE(rig.engine().run_cycle().done == n);
}

int count_in(ClockRig& rig, int n, const char* state) {
  int count = 0;
  for (int i = 1; i <= n; ++i) count += rig.state(fmt::format("t-{}", i)) == state;
  return count;
}

int inactive_at_zoom(ClockRig& rig) {
  int count = 0;
  for (const auto& u : rig.sim().users()) count += u.value("active", true) == false;
  return count;
}

// 60 terminates dated 1 s apart, each falling due in a cycle of its own, one second after another.
void run_second_by_second(ClockRig& rig) {
  for (int s = 1; s <= 60; ++s) {
    rig.clock().set(at(fmt::format("2026-12-01T09:00:{:02}Z", s - 1).c_str()) + 1s);
    rig.engine().run_cycle();
  }
}

std::string terminate_file(int from, int to) {
  std::string out = "[";
  for (int i = from; i <= to; ++i) {
    if (i > from) out += ",";
    out += event_json(fmt::format("t-{}", i), "terminate", json{{"employee_id", fmt::format("E{}", i)}});
  }
  return out + "]";
}

} // namespace

TEST_CASE("e2e guard: 60 terminates dated 1 s apart, each in a file of its own: exactly max run in the hour, the rest held") {
  ClockRig rig("lifecycle:\n  guard: { max: 40, per: 1h }\n", at("2026-12-01T08:00:00Z"), "UTC");
  hire_all(rig, 60);
  for (int i = 1; i <= 60; ++i)
    rig.ingest(fmt::format("term-{}.json", i),
               {hr_event(fmt::format("t-{}", i), EventType::terminate, fmt::format("E{}", i),
                         fmt::format("2026-12-01T09:00:{:02}Z", i - 1))});
  run_second_by_second(rig);
  CHECK(count_in(rig, 60, "done") == 40);
  CHECK(count_in(rig, 60, "held") == 20);
  CHECK(inactive_at_zoom(rig) == 40);
  // The first 40 by date ran; the held ones name the budget.
  CHECK(rig.state("t-40") == "done");
  auto held = rig.store().find_event("t-41").value().value();
  CHECK(held.reason.find("beside 40 reserved in the last 1h across every daemon") != std::string::npos);

  // t-k was decided when it fell due, at 09:00:(k-1) (t-1 a second late, with t-2). At 10:00:29 the window
  // (09:00:29, 10:00:29] holds t-31…t-40: 10 places. A file of 31 is refused, then one of 30 fits exactly.
  rig.clock().set(at("2026-12-01T10:00:00Z"));
  std::vector<HrEvent> more;
  for (int i = 61; i <= 121; ++i)
    more.push_back(hr_event(fmt::format("h-{}", i), EventType::hire, fmt::format("E{}", i), "2026-12-01", person(i)));
  rig.ingest("more-hires.json", more);
  REQUIRE(rig.engine().run_cycle().done == 61);
  rig.clock().set(at("2026-12-01T10:00:29Z"));
  std::vector<HrEvent> big, fits;
  for (int i = 61; i <= 91; ++i)
    big.push_back(hr_event(fmt::format("t-{}", i), EventType::terminate, fmt::format("E{}", i), "2026-12-01"));
  for (int i = 92; i <= 121; ++i)
    fits.push_back(hr_event(fmt::format("t-{}", i), EventType::terminate, fmt::format("E{}", i), "2026-12-01"));
  rig.ingest("big.json", big);
  rig.engine().run_cycle();
  rig.ingest("fits.json", fits);
  rig.engine().run_cycle();
  CHECK(rig.state("t-61") == "held");
  CHECK(rig.state("t-91") == "held");
  CHECK(rig.state("t-92") == "done");
  CHECK(rig.state("t-121") == "done");
  CHECK(inactive_at_zoom(rig) == 70);
}

TEST_CASE("e2e guard: 60 terminates dated 1 s apart in one file: the whole file is held, nothing reaches Zoom") {
  ClockRig rig("lifecycle:\n  guard: { max: 40, per: 1h }\n", at("2026-12-01T08:00:00Z"), "UTC");
  hire_all(rig, 60);
  std::vector<HrEvent> file;
  for (int i = 1; i <= 60; ++i)
    file.push_back(hr_event(fmt::format("t-{}", i), EventType::terminate, fmt::format("E{}", i),
                            fmt::format("2026-12-01T09:00:{:02}Z", i - 1)));
  rig.ingest("leavers.json", file);
  run_second_by_second(rig);
  CHECK(count_in(rig, 60, "held") == 60);
  CHECK(inactive_at_zoom(rig) == 0);
  auto held = rig.store().find_event("t-1").value().value();
  CHECK(held.reason.find("file leavers.json would take away 60") != std::string::npos);
}

TEST_CASE("e2e guard: run --once counts what earlier runs took away within lifecycle.guard.per") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  guard: { max: 40, per: 1h }\n");
  // H2rEnv's scheduler.interval is 1 s: the old guard's window, so the second run below fell in a window
  // of its own.
  H2rEnv env(options);
  env.drop("hires.json", hires_json(60));
  REQUIRE(env.run_once().exit_code == 0);
  env.drop("terms-1.json", terminate_file(1, 30));
  auto first = env.run_once();
  REQUIRE(first.exit_code == 0);
  CHECK(sim_count(env, "PATCH /Users/{id}") == 30);
  // Past the old guard's 1 s window: before the budget, this second file ran in a window of its own.
  std::this_thread::sleep_for(1100ms);
  env.drop("terms-2.json", terminate_file(31, 60));
  auto second = env.run_once();
  REQUIRE(second.exit_code == 0);
  CHECK(second.err.find("guard.held") != std::string::npos);
  CHECK(sim_count(env, "PATCH /Users/{id}") == 30);   // nothing of the second file
  auto held = env.h2rd_json({"events", "list", "--state", "held"});
  CHECK(held.size() == 30);
  // status (and the console, which shows the same list) names the file once, not event by event.
  auto status = env.h2rd_json({"status"});
  int guard_items = 0;
  for (const auto& item : status["attention"])
    if (item["kind"] == "guard_held") {
      ++guard_items;
      CHECK(item["count"] == 30);
      CHECK(item["message"].get<std::string>().find("terms-2.json would take away 30") != std::string::npos);
    }
  CHECK(guard_items == 1);
  CHECK(env.h2rd({"events", "approve", "--all"}).exit_code == 0);
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(sim_count(env, "PATCH /Users/{id}") == 60);
}

TEST_CASE("pg guard: 120 terminates dropped into two daemons' inboxes at once: one file's 30 run, the other three are held whole") {
  if (!pg_server_named()) {
    MESSAGE("SKIPPED (store): no PostgreSQL server (PGHOST unset); scripts/test runs this inside pg_virtualenv");
    return;
  }
  ScratchDatabase db;
  TempDir dir;
  SimProcess sim;
  dir.write("rules.yaml", spec_rules_with("lifecycle:\n  guard: { max: 40, per: 1h }\n"));
  std::vector<std::string> configs;
  for (const char* name : {"a", "b"}) {
    dir.write(std::string(name) + "/inbox/.keep", "");
    configs.push_back(dir.write(std::string(name) + "/h2rd.yaml", pg_daemon_config(db.url())).string());
  }
  auto h2rd = [&](std::size_t d, const std::vector<std::string>& args, std::string_view input = {}) {
    std::vector<std::string> argv = {h2rd_path(), "-c", configs[d]};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, input, {}, 120s);
  };
  auto added = h2rd(0, {"connection", "add", "zoom-main", "--account-id", sim.account_id(), "--client-id",
                        sim.client_id(), "--client-secret-stdin", "--oauth-url", sim.oauth_url(), "--api-url",
                        sim.api_url(), "--rate-limit", "1000"},
                    sim.secret().reveal() + "\n");
  REQUIRE_MESSAGE(added.exit_code == 0, added.err);
  auto drop = [&](std::size_t d, const std::string& name, const std::string& content) {
    const std::string inbox = d == 0 ? "a/inbox/" : "b/inbox/";
    dir.write(inbox + name + ".tmp", content);
    std::filesystem::rename(dir.path() / (inbox + name + ".tmp"), dir.path() / (inbox + name));
  };
  auto events = [&] {
    auto j = json::parse(h2rd(1, {"events", "list", "--limit", "100000", "--json"}).out, nullptr, false);
    return j.is_array() ? j : json::array();
  };
  auto count = [&](const std::string& type, const std::string& state) {
    int n = 0;
    for (const auto& e : events()) n += e["type"] == type && e["state"] == state;
    return n;
  };
  auto a = std::make_unique<ChildProcess>(std::vector<std::string>{h2rd_path(), "-c", configs[0], "run"});
  auto b = std::make_unique<ChildProcess>(std::vector<std::string>{h2rd_path(), "-c", configs[1], "run"});
  drop(0, "hires.json", hires_json(120));
  REQUIRE_MESSAGE(eventually([&] { return count("hire", "done") == 120; }, 180s), a->err(), b->err());
  // Four files of 30, two in each daemon's inbox, at once.
  drop(0, "terms-1.json", terminate_file(1, 30));
  drop(1, "terms-2.json", terminate_file(31, 60));
  drop(0, "terms-3.json", terminate_file(61, 90));
  drop(1, "terms-4.json", terminate_file(91, 120));
  REQUIRE_MESSAGE(eventually([&] { return count("terminate", "done") + count("terminate", "held") == 120; }, 180s),
                  a->err(), b->err());
  CHECK(count("terminate", "done") == 30);
  CHECK(count("terminate", "held") == 90);
  int inactive = 0;
  for (const auto& u : sim.users()) inactive += u.value("active", true) == false;
  CHECK(inactive == 30);
  // Each file is all done or all held.
  std::map<std::string, std::set<std::string>> states;
  for (const auto& e : events())
    if (e["type"] == "terminate") states[e.value("source_file", "")].insert(e["state"].get<std::string>());
  CHECK(states.size() == 4);
  for (const auto& [file, seen] : states) {
    CAPTURE(file);
    CHECK(seen.size() == 1);
  }
  CHECK(a->stop() == 0);
  CHECK(b->stop() == 0);
}

} // namespace h2r::test
