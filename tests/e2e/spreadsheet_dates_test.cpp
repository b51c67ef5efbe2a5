// Issue 28, "US spreadsheets are refused": an export with `3/1/2026` dates goes through the real inbox
// (`h2rd run --once` against zoom-sim) and `h2rd plan`. With `inbox: { date_order: MDY }` its dates are
// read and stored as ISO (Excel's serials too, with excel_serial_dates); without it the file is rejected
// with a report naming inbox.date_order and the value.
#include "support/h2r_env.hpp"
#include "support/file_text.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace h2r::test;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// h2rd.yaml with its plain `inbox: inbox` replaced by `inbox: { path: inbox, <settings> }`.
void set_inbox(const H2rEnv& env, const std::string& settings) {
  std::string config = file_text(env.config_path());
  const std::string plain = "inbox: inbox\n";
  const auto at = config.find(plain);
  REQUIRE(at != std::string::npos);
  config.replace(at, plain.size(), "inbox: { path: inbox, " + settings + " }\n");
  std::ofstream(env.config_path(), std::ios::binary | std::ios::trunc) << config;
}

const std::string k_header = "event_id,type,effective_date,employee_id,first_name,last_name,email,department,"
                             "employment_type";

std::string hire_row(const std::string& event_id, const std::string& date, const std::string& id) {
  return event_id + ",hire," + date + "," + id + ",Ann,Lee," + id + "@example.com,Engineering,full_time\r\n";
}

// The day `days` after today (UTC) as a US spreadsheet writes it (M/D/YYYY) and as ISO.
std::pair<std::string, std::string> days_ahead(int days) {
  using namespace std::chrono;
  const year_month_day day{floor<std::chrono::days>(system_clock::now()) + std::chrono::days(days)};
  const auto y = static_cast<int>(day.year());
  const auto m = static_cast<unsigned>(day.month());
  const auto d = static_cast<unsigned>(day.day());
  char iso[16];
  std::snprintf(iso, sizeof iso, "%04d-%02u-%02u", y, m, d);
  return {std::to_string(m) + "/" + std::to_string(d) + "/" + std::to_string(y), iso};
}

nlohmann::json event_named(const H2rEnv& env, const std::string& event_id) {
  for (const auto& e : env.events())
    if (e["event_id"] == event_id) return e;
  return nullptr;
}

} // namespace

TEST_CASE("e2e spreadsheet dates: with inbox.date_order MDY a US export is read, its dates stored as ISO") {
  H2rEnv env;
  set_inbox(env, "date_order: MDY, excel_serial_dates: true");
  const auto [us_later, iso_later] = days_ahead(40);
  env.drop("us.csv", k_header + "\r\n" + hire_row("d-1", "3/1/2026", "E1") + hire_row("d-2", us_later, "E2") +
                         hire_row("d-3", "46082", "E3"));

  auto run = env.run_once();
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(std::filesystem::exists(env.inbox() + "/processed/us.csv"));
  const auto past = event_named(env, "d-1");
  REQUIRE(past.is_object());
  CHECK(past["effective"] == "2026-03-01T00:00:00Z"); // March 1, not January 3
  CHECK(past["state"] == "done");
  CHECK(env.sim_users_named("E1@example.com").size() == 1);
  const auto serial = event_named(env, "d-3");
  REQUIRE(serial.is_object());
  CHECK(serial["effective"] == "2026-03-01T00:00:00Z");
  CHECK(serial["state"] == "done");
  const auto later = event_named(env, "d-2");
  REQUIRE(later.is_object());
  CHECK(later["effective"] == iso_later + "T00:00:00Z");
  CHECK(later["state"] != "done");
  REQUIRE(later["due"].is_string());
  CHECK(later["due"].get<std::string>() <= later["effective"].get<std::string>());
  CHECK(env.sim_users_named("E2@example.com").empty());
  const auto shown = env.h2rd_json({"events", "show", "d-1"});
  CHECK(shown.dump().find("3/1/2026") == std::string::npos); // stored as ISO, not as written

  // `plan` reads a file as the inbox does.
  const std::string plan_file = env.dir().write("plan/us.csv", k_header + "\n" + hire_row("p-1", "3/1/2026", "E9")).string();
  auto plan = env.h2rd({"plan", plan_file});
  INFO(plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(has(plan.out, "POST /Users"));
}

TEST_CASE("e2e spreadsheet dates: without inbox.date_order a US export is rejected naming the key and the value") {
  H2rEnv env;
  env.drop("us.csv", k_header + "\r\n" + hire_row("d-1", "2026-03-01", "E1") + hire_row("d-2", "3/1/2026", "E2") +
                         hire_row("d-3", "46082", "E3"));

  auto run = env.run_once();
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(std::filesystem::exists(env.inbox() + "/rejected/us.csv"));
  const std::string report = file_text(env.inbox() + "/rejected/us.csv.error.txt");
  INFO(report);
  CHECK(has(report, "record 2 (line 3): field 'effective_date': '3/1/2026' is not an ISO date (YYYY-MM-DD); if your "
                    "HR system writes month/day/year, set inbox.date_order: MDY in h2rd.yaml (day/month/year: DMY)"));
  CHECK(has(report, "record 3 (line 4): field 'effective_date': '46082' is not an ISO date (YYYY-MM-DD); it looks "
                    "like an Excel serial date: set inbox.excel_serial_dates: true in h2rd.yaml"));
  CHECK(env.events().empty()); // a file is taken whole or not at all
  CHECK(env.sim_users_named("E1@example.com").empty());

  const std::string plan_file = env.dir().write("plan/us.csv", k_header + "\n" + hire_row("p-1", "13/1/2026", "E9")).string();
  auto plan = env.h2rd({"plan", plan_file});
  CHECK(plan.exit_code == 1);
  CHECK(has(plan.err, "us.csv: record 1 (line 2): field 'effective_date': '13/1/2026' is not an ISO date (YYYY-MM-DD); "
                      "it reads as day/month/year: set inbox.date_order: DMY in h2rd.yaml"));
}
