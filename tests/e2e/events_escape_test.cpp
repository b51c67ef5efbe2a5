// Issue 26 items 12 and 13: what `events list` and `events show` print from HR files never reaches the
// terminal raw — a source file name that is not UTF-8 is escaped (JSON included), and control
// characters in field values (ESC, OSC, CR, LF) are shown as \xNN.
#include "lifecycle_util.hpp"

#include <string>

using namespace h2r::test;
using nlohmann::json;

TEST_CASE("e2e events: a source file name that is not UTF-8 and control characters in HR values are escaped") {
  H2rEnv env;
  json person = employee("E9", "Eve", "Escape");
  person["cost_center"] = "\x1b]0;owned\x07\x1b[2J\rforged\n    employee_id: E1";
  const std::string file = "hires-\xff\xfe.json";
  apply(env, file, "[" + event_json("h-9001", "hire", person) + "]");

  auto list = env.h2rd({"events", "list", "--json"});
  INFO(list.err);
  REQUIRE(list.exit_code == 0);
  const json rows = json::parse(list.out);   // valid UTF-8, else this throws
  REQUIRE(rows.size() == 1);
  const std::string id = std::to_string(rows[0]["id"].get<long long>());
  CHECK(rows[0]["source_file"].get<std::string>().find("hires-\\xFF\\xFE.json") != std::string::npos);

  auto show_json = env.h2rd({"events", "show", id, "--json"});
  INFO(show_json.err);
  REQUIRE(show_json.exit_code == 0);
  CHECK(json::parse(show_json.out)["source_file"].get<std::string>().find("hires-\\xFF\\xFE.json") != std::string::npos);

  auto show = env.h2rd({"events", "show", id});
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find('\x1b') == std::string::npos);
  CHECK(show.out.find('\x07') == std::string::npos);
  CHECK(show.out.find('\r') == std::string::npos);
  CHECK(show.out.find("\xff") == std::string::npos);
  CHECK(show.out.find("\n    employee_id: E1") == std::string::npos);   // no forged line
  CHECK(show.out.find("cost_center: \\x1B]0;owned\\x07\\x1B[2J\\x0Dforged\\x0A    employee_id: E1") != std::string::npos);
  CHECK(show.out.find("hires-\\xFF\\xFE.json") != std::string::npos);

  // The text list prints the reasons, which may quote the file name.
  auto text_list = env.h2rd({"events", "list"});
  REQUIRE(text_list.exit_code == 0);
  CHECK(text_list.out.find("\xff") == std::string::npos);
}
