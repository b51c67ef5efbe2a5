// Issue 17 item 5 / issue 13 item 7: `plan` asks the engine. It lists the writes `run --once` then makes
// (zoom-sim's request log, in order), when each event becomes due (effective date, lead days), the
// matched role and target, and the holds the supervision and guard code of `run` would make.
#include "lifecycle_util.hpp"

#include "core/time.hpp"

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

using namespace h2r::test;
using nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Midnight UTC `days` after the day of `from`.
h2r::SystemTime midnight_after(h2r::SystemTime from, int days) {
  return std::chrono::floor<std::chrono::days>(from) + std::chrono::days(days);
}

// What plan prints for `due` at `now`: whole days, rounded up (h2rd/cli/cmd_plan.cpp).
std::string due_in_days(h2r::SystemTime due, h2r::SystemTime now) {
  const auto days = std::chrono::ceil<std::chrono::days>(due - now).count();
  return "in " + std::to_string(days) + " days";
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "; ";
  return out;
}

json id_only(const std::string& id) { return {{"employee_id", id}}; }

// "METHOD /Resource/id" of every call `plan --json` lists, in order.
std::vector<std::string> planned_writes(const json& plan) {
  std::vector<std::string> out;
  for (const auto& item : plan)
    for (const auto& action : item["actions"])
      for (const auto& call : action.value("calls", json::array()))
        out.push_back(call["method"].get<std::string>() + " " + call["path"].get<std::string>());
  return out;
}

// Ids travel percent-encoded in the request line; plan names them as they are.
std::string percent_decoded(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The SCIM writes zoom-sim (--verbose) logged after byte `from` of its stderr, as "METHOD /Resource/id".
std::vector<std::string> logged_writes(const std::string& log, std::size_t from) {
  std::vector<std::string> out;
  std::istringstream lines(log.substr(std::min(from, log.size())));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string tag, method, target;
    words >> tag >> method >> target;
    if (tag != "zoom-sim:" || method == "GET" || target.rfind("/scim2/", 0) != 0) continue;
    out.push_back(method + " " + percent_decoded(target.substr(6, target.find('?') - 6)));
  }
  return out;
}

// Waits until zoom-sim has logged `count` writes after `from` (its logger runs after each answer).
std::vector<std::string> wait_for_writes(H2rEnv& env, std::size_t from, std::size_t count) {
  for (int i = 0; i < 500 && logged_writes(env.sim().process().err(), from).size() < count; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return logged_writes(env.sim().process().err(), from);
}

std::string group_id(H2rEnv& env, const std::string& name) {
  for (const auto& g : env.sim().groups())
    if (g.value("displayName", "") == name) return g["id"].get<std::string>();
  FAIL("no group " << name);
  return {};
}

H2rEnvOptions groups_options(const std::string& lifecycle = "") {
  H2rEnvOptions options;
  options.sim_args = {"--verbose"};
  options.rules = spec_rules_with(lifecycle);
  const std::string line = "      role: Member\n";
  options.rules.insert(options.rules.find(line) + line.size(), "      groups: [Engineering, Builders]\n");
  return options;
}

// plan --json of `content`, then the same file through run --once: the same writes, in the same order.
std::vector<std::string> plan_then_run(H2rEnv& env, const std::string& name, const std::string& content) {
  const std::string file = env.dir().write("plan/" + name, content).string();
  const auto plan = env.h2rd_json({"plan", file});
  const auto planned = planned_writes(plan);
  const std::size_t mark = env.sim().process().err().size();
  apply(env, name, content);
  const auto logged = wait_for_writes(env, mark, planned.size());
  INFO("planned: " << joined(planned) << "\nlogged: " << joined(logged));
  CHECK(logged == planned);
  return planned;
}

} // namespace

TEST_CASE("e2e plan: plan --json lists the writes run --once makes, in order, for a hire with groups and an update") {
  H2rEnv env(groups_options());
  env.sim().seed_group("Engineering");
  env.sim().seed_group("Builders");
  const std::string eng = group_id(env, "Engineering"), builders = group_id(env, "Builders");

  const std::string hire = event_json("h-1", "hire", employee("E1", "Gra", "Ham"));
  const auto hire_writes = plan_then_run(env, "hire.json", hire);
  CHECK(hire_writes == std::vector<std::string>{"POST /Users", "PATCH /Groups/" + eng, "PATCH /Groups/" + builders});

  const std::string user_id = the_user(env, "gra.ham@example.com")["id"].get<std::string>();
  auto moved = employee("E1", "Gra", "Ham", "Product");
  moved["job_title"] = "Lead";
  const std::string update = event_json("u-1", "update", moved);
  // Human output: due now, role and target, short attribute names; --json keeps the SCIM path.
  auto text = env.h2rd({"plan", env.dir().write("plan/text.json", update).string()});
  INFO(text.out, text.err);
  CHECK(text.exit_code == 0);
  CHECK(has(text.out, "u-1 (update E1, effective "));
  CHECK(has(text.out, "  due: now\n"));
  CHECK(has(text.out, "  role: engineering in zoom-main\n"));
  CHECK(has(text.out, "[zoom-main] PUT /Users/" + user_id + "  (update gra.ham@example.com)"));
  CHECK(has(text.out, "      enterprise.department: Engineering → Product\n"));
  // The groups h2r added at the hire are recorded on the link: the update does not add them again.
  CHECK_FALSE(has(text.out, "add to group"));
  CHECK_FALSE(has(text.out, "PATCH /Users/" + eng));
  CHECK(has(text.out, "plan: 1 event(s): 1 due now, 0 not due yet, 0 held"));
  auto j = env.h2rd_json({"plan", env.dir().write("plan/j.json", update).string()});
  REQUIRE(j.size() == 1);
  CHECK(j[0]["due_now"] == true);
  CHECK(j[0]["targets"][0]["role"] == "engineering");
  CHECK(j[0]["targets"][0]["connection"] == "zoom-main");
  bool scim_path = false;
  for (const auto& ch : j[0]["actions"][0]["calls"][0]["changes"]) scim_path = scim_path || ch["path"] == k_enterprise_urn + ".department";
  CHECK(scim_path);

  const auto update_writes = plan_then_run(env, "update.json", update);
  CHECK(update_writes == std::vector<std::string>{"PUT /Users/" + user_id});
  CHECK(state_of(env, "u-1") == "done");

  // A hire and an update that changes nothing, in one file: the update is planned on the state the
  // planned create leaves (nothing to send), as run finds it.
  const std::string pair = "[" + event_json("h-2", "hire", employee("E2", "Sec", "Ond")) + "," +
                           event_json("u-2", "update", {{"employee_id", "E2"}, {"department", "Engineering"}}) + "]";
  CHECK(plan_then_run(env, "pair.json", pair) ==
        std::vector<std::string>{"POST /Users", "PATCH /Groups/" + eng, "PATCH /Groups/" + builders});
  CHECK(state_of(env, "u-2") == "done");
}

TEST_CASE("e2e plan: a future-dated hire is due at its effective date, lead days move it, and run agrees") {
  // Every date comes from one instant, so a run across midnight UTC does not mix two days; the
  // "in N days" plan prints may then be one less, so the clock is read on each side of the call.
  const auto start = std::chrono::system_clock::now();
  const std::string in_ten = date_of(midnight_after(start, 10));
  for (int lead : {0, 3}) {
    CAPTURE(lead);
    H2rEnv env(groups_options(lead ? "lifecycle:\n  hire: { lead_days: 3 }\n" : ""));
    const std::string file = "[" + event_json("f-1", "hire", employee("E5", "Fu", "Ture", "Sales"), in_ten) + "," +
                             event_json("f-2", "hire", employee("E6", "No", "Wait", "Sales")) + "]";
    const auto due = midnight_after(start, lead ? 7 : 10);
    const std::string due_date = date_of(due);
    auto j = env.h2rd_json({"plan", env.dir().write("plan/future.json", file).string()});
    REQUIRE(j.size() == 2);
    CHECK(j[0]["event_id"] == "f-2");   // the one due now runs first
    CHECK(j[0]["due_now"] == true);
    CHECK(j[1]["event_id"] == "f-1");
    CHECK(j[1]["due_now"] == false);
    CHECK(j[1]["due"] == due_date + "T00:00:00Z");
    CHECK(j[1]["effective"] == in_ten + "T00:00:00Z");
    const auto before = std::chrono::system_clock::now();
    auto text = env.h2rd({"plan", env.dir().write("plan/future2.json", file).string()});
    const auto after = std::chrono::system_clock::now();
    INFO(text.out);
    CHECK((has(text.out, "  due: " + due_date + "T00:00:00Z, " + due_in_days(due, before)) ||
           has(text.out, "  due: " + due_date + "T00:00:00Z, " + due_in_days(due, after))));
    CHECK(has(text.out, "not due yet"));
    CHECK(has(text.out, lead ? "(3 days of lifecycle.hire.lead_days before the effective date)" : "(effective date)"));
    CHECK(has(text.out, "plan: 2 event(s): 1 due now, 1 not due yet, 0 held"));

    // run computes the same due time: the future hire waits, no user is made for it.
    apply(env, "future.json", file);
    CHECK(state_of(env, "f-2") == "done");
    CHECK(state_of(env, "f-1") == "waiting");
    CHECK(env.sim_users_named("fu.ture@example.com").empty());
    auto listed = env.h2rd_json({"events", "show", std::to_string(event_named(env, "f-1")["id"].get<long long>())});
    CHECK(listed["due"] == due_date + "T00:00:00Z");
    // A later plan for the same employee shows the queued hire first and the new event after it.
    // (An update effective earlier would run first: the effective date orders an employee's events.)
    auto queued = env.h2rd_json(
        {"plan", env.dir().write("plan/after.json", event_json("f-3", "update", id_only("E5"), in_ten)).string()});
    REQUIRE(queued.size() == 2);
    CHECK(queued[0]["event_id"] == "f-1");
    CHECK(queued[0]["source"] == "queued");
    CHECK(queued[1]["event_id"] == "f-3");
    CHECK(queued[1]["due"] == in_ten + "T00:00:00Z");
    CHECK(queued[1]["due_why"] == "effective date");
    CHECK(queued[1]["due_now"] == false);
  }
}

TEST_CASE("e2e plan: the guard note comes from run's guard: the same reason, only for deactivations due together") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  guard: { max_deactivations_per_cycle: 2 }\n");
  H2rEnv env(options);
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "A", "One")) + "," +
                               event_json("h-2", "hire", employee("E2", "B", "Two")) + "," +
                               event_json("h-3", "hire", employee("E3", "C", "Three")) + "]");
  // Two due now and one next week: two in one cycle do not pass the guard.
  const std::string spread = "[" + event_json("s-1", "terminate", id_only("E1")) + "," +
                             event_json("s-2", "terminate", id_only("E2")) + "," +
                             event_json("s-3", "terminate", id_only("E3"), date_in_days(7)) + "]";
  auto calm = env.h2rd_json({"plan", env.dir().write("plan/spread.json", spread).string()});
  REQUIRE(calm.size() == 3);
  for (const auto& item : calm) CHECK(item["hold"].is_null());
  CHECK(calm[2]["event_id"] == "s-3");
  CHECK(calm[2]["due_now"] == false);

  const std::string terms = "[" + event_json("t-1", "terminate", id_only("E1")) + "," +
                            event_json("t-2", "terminate", id_only("E2")) + "," +
                            event_json("t-3", "terminate", id_only("E3")) + "]";
  auto plan = env.h2rd_json({"plan", env.dir().write("plan/terms.json", terms).string()});
  REQUIRE(plan.size() == 3);
  // The same words from plan and run, but for the file's name (plan reads it where it lies).
  const std::string expected = "terms.json would take away 3 (deactivate, delete, license or user type down), more "
                               "than lifecycle.guard.max (2) per 1h. All of this file that takes something away is "
                               "held; approve with `h2rd events approve --all` (or one by one), or reject";
  auto ends_with_expected = [&](const json& text) {
    const std::string s = text.is_string() ? text.get<std::string>() : "";
    return s.rfind("guard: file ", 0) == 0 && s.size() > expected.size() && s.ends_with(expected);
  };
  for (const auto& item : plan) {
    CHECK(ends_with_expected(item["hold"]));
    CHECK(item["due_now"] == false);
  }
  auto text = env.h2rd({"plan", env.dir().write("plan/terms2.json", terms).string()});
  CHECK(has(text.out, "terms2.json would take away 3"));
  CHECK(has(text.out, "plan: 3 event(s): 0 due now, 0 not due yet, 3 held"));
  apply(env, "terms.json", terms);
  for (const char* id : {"t-1", "t-2", "t-3"}) {
    CHECK(state_of(env, id) == "held");
    CHECK(ends_with_expected(event_named(env, id)["reason"]));
  }
}

TEST_CASE("e2e plan: the guard holds a whole file as run does, across a cycle's batches") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  guard: { max: 2, per: 1h }\n");
  H2rEnv env(options);
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "A", "One")) + "," +
                               event_json("h-2", "hire", employee("E2", "B", "Two")) + "," +
                               event_json("h-3", "hire", employee("E3", "C", "Three")) + "]");
  // One cycle, two batches: E1, E2 and E3's update first (2 deactivations), then E3's terminate (a
  // third, of the same file): the file's three are held, the first batch's included.
  const std::string file = "[" + event_json("b-1", "terminate", id_only("E1")) + "," +
                           event_json("b-2", "terminate", id_only("E2")) + "," +
                           event_json("b-3", "update", {{"employee_id", "E3"}, {"job_title", "Last"}}) + "," +
                           event_json("b-4", "terminate", id_only("E3")) + "]";
  auto plan = env.h2rd_json({"plan", env.dir().write("plan/batches.json", file).string()});
  REQUIRE(plan.size() == 4);
  std::map<std::string, json> by_id;
  for (const auto& item : plan) by_id[item["event_id"].get<std::string>()] = item;
  for (const char* id : {"b-1", "b-2", "b-4"}) {
    CAPTURE(id);
    REQUIRE(by_id[id]["hold"].is_string());
    CHECK(has(by_id[id]["hold"].get<std::string>(), "batches.json would take away 3"));
  }
  CHECK(by_id["b-3"]["hold"].is_null());

  apply(env, "batches.json", file);
  CHECK(state_of(env, "b-3") == "done");
  for (const char* id : {"b-1", "b-2", "b-4"}) {
    CAPTURE(id);
    CHECK(state_of(env, id) == "held");
    CHECK(has(event_named(env, id)["reason"].get<std::string>(), "batches.json would take away 3"));
  }
  CHECK(sim_count(env, "PATCH /Users/{id}") == 0);
}

TEST_CASE("e2e plan: a paused connection is named: run would wait for it, and --json marks its actions deferred") {
  wait_clear_of_midnight_utc();
  H2rEnv env(groups_options(""));
  env.sim().configure({{"daily_limit", 1}});   // one call, then Zoom's daily limit: paused to next UTC day
  env.drop("hire.json", event_json("p-1", "hire", employee("E7", "Pau", "Sed", "Sales")));
  env.h2rd({"run", "--once", "--max-wait", "1s"});
  auto health = env.h2rd_json({"connection", "show", "zoom-main"});
  INFO(health.dump());
  const std::string file = env.dir().write("plan/paused.json", event_json("p-2", "hire", employee("E8", "Wai", "Ting", "Sales"))).string();
  auto text = env.h2rd({"plan", file});
  INFO(text.out << text.err);
  CHECK(has(text.out, "note: connection zoom-main is paused until "));
  CHECK(has(text.out, "`h2rd run` waits until then"));
  auto j = env.h2rd_json({"plan", file});
  bool deferred = false;
  for (const auto& item : j)
    for (const auto& a : item["actions"]) deferred = deferred || a.contains("deferred");
  CHECK(deferred);

  H2rEnv healthy(groups_options(""));
  auto calm = healthy.h2rd({"plan", healthy.dir().write("plan/calm.json", event_json("p-3", "hire", employee("E9", "Ca", "Lm", "Sales"))).string()});
  CHECK_FALSE(has(calm.out, "note: connection"));
}

namespace {

json person(const std::string& id, const std::string& first, const std::string& last, const std::string& email) {
  json e = employee(id, first, last);
  e["email"] = email;
  return e;
}

// The hold `plan --json` shows for each event of `file`, by HR event id (null: it runs).
std::map<std::string, json> planned_holds(H2rEnv& env, const std::string& name, const std::string& content) {
  std::map<std::string, json> out;
  for (const auto& item : env.h2rd_json({"plan", env.dir().write("plan/" + name, content).string()}))
    out[item["event_id"].get<std::string>()] = item["hold"];
  return out;
}

} // namespace

// Issue 29: plan checked no owner, so it showed a take-over (or a second create) where run holds a conflict.
TEST_CASE("e2e plan: a Zoom user or login another employee's link has is shown held as a conflict, as run holds it") {
  H2rEnv env;
  apply(env, "e1.json", event_json("evt-1", "hire", person("E1", "Anna", "Berg", "anna@example.com")));
  const json anna = the_user(env, "anna@example.com");

  // Another employee's hire with E1's address, case aside: plan and run hold it with the same words.
  const std::string e9 = event_json("evt-9", "hire", person("E9", "Anna", "Other", "Anna@Example.com"));
  const auto held = planned_holds(env, "e9.json", e9);
  REQUIRE(held.count("evt-9"));
  REQUIRE(held.at("evt-9").is_string());
  const std::string reason = held.at("evt-9").get<std::string>();
  CHECK(reason.rfind("conflict: ", 0) == 0);
  CHECK(has(reason, "linked to employee E1"));
  CHECK(has(reason, "employee E9"));
  auto text = env.h2rd({"plan", env.dir().write("plan/e9-text.json", e9).string()});
  INFO(text.out << text.err);
  CHECK(has(text.out, "  held: conflict: "));
  CHECK(has(text.out, "no call: Anna@Example.com is held"));
  CHECK(has(text.out, "plan: 1 event(s): 0 due now, 0 not due yet, 1 held"));
  apply(env, "e9.json", e9);
  CHECK(state_of(env, "evt-9") == "held");
  CHECK(shown(env, "evt-9")["reason"] == reason);
  CHECK(the_user(env, "anna@example.com") == anna);

  // Two hires of one address in one file: plan creates the first and holds the second on the link
  // the first leaves, as run does.
  const std::string twins = "[" + event_json("evt-a", "hire", person("A1", "Ann", "One", "twin@example.com")) + "," +
                            event_json("evt-b", "hire", person("B1", "Bob", "Two", "twin@example.com")) + "]";
  const auto planned = planned_holds(env, "twins.json", twins);
  REQUIRE(planned.size() == 2);
  CHECK(planned.at("evt-a").is_null());
  REQUIRE(planned.at("evt-b").is_string());
  CHECK(planned.at("evt-b").get<std::string>().rfind("conflict: ", 0) == 0);
  CHECK(has(planned.at("evt-b").get<std::string>(), "linked to employee A1"));
  apply(env, "twins.json", twins);
  CHECK(state_of(env, "evt-a") == "done");
  CHECK(state_of(env, "evt-b") == "held");
  CHECK(has(shown(env, "evt-b")["reason"].get<std::string>(), "linked to employee A1"));
  CHECK(env.sim_users_named("twin@example.com").size() == 1);
}

// Issue 28: `plan` for someone h2r does not know printed "role: none (deactivate)" and "no call:  is
// absent". It says in words that the employee is unknown and nothing is searched or sent, as run skips it.
TEST_CASE("e2e plan: an event for an employee h2r does not know says so in words, as run skips it") {
  H2rEnv env;
  const std::string file = env.dir().write("plan/unknown.json", event_json("t-9", "terminate", id_only("E404"))).string();
  auto text = env.h2rd({"plan", file});
  INFO(text.out, text.err);
  CHECK(text.exit_code == 0);
  CHECK(has(text.out, "unknown employee: h2r has no record of employee E404"));
  CHECK_FALSE(has(text.out, "role: none"));
  CHECK_FALSE(has(text.out, "no call:  is"));
  env.drop("unknown.json", event_json("t-9", "terminate", id_only("E404")));
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(event_named(env, "t-9")["state"] == "skipped");
  CHECK(env.sim().requests()["requests"].empty());   // no search by address, no call
}
