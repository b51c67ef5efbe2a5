// GET /api/v1/employees?q= (employee_search_json, issue 27 "find a person"): by last name, e-mail,
// Zoom address or id, case and diacritics aside, paged; and an event's changes for the timeline.
#include "views/views.hpp"
#include "unit/store/store_test_util.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::store_test;

namespace {

void add_employee(Store& store, const std::string& id, const std::string& first, const std::string& last) {
  EmployeeRow row;
  row.employee_id = id;
  row.record = {{"first_name", first}, {"last_name", last}, {"email", id + "@example.com"}, {"job_title", "Engineer"}};
  row.status = HrStatus::active;
  REQUIRE(store.put_employee(row));
}

std::vector<std::string> ids(const nlohmann::json& page) {
  std::vector<std::string> out;
  for (const auto& e : page["employees"]) out.push_back(e["employee_id"].get<std::string>());
  return out;
}

} // namespace

TEST_CASE("employee search: last name, address, Zoom userName or id, case and diacritics aside, ordered and paged") {
  TempDir dir;
  auto store = SqliteStoreFactory::open(dir);
  add_employee(*store, "E1", "Dana", "Okafor");
  add_employee(*store, "E2", "Zoë", "Ålund");
  add_employee(*store, "E3", "Дмитрий", "Иванов");
  add_employee(*store, "E4", "Chidi", "OKAFOR-Eze");
  ConnectionRow c;
  c.name = "zoom";
  REQUIRE(store->add_connection(c));
  LinkRow link;
  link.connection = "zoom";
  link.employee_id = "E2";
  link.zoom_user_id = "u2";
  link.user_name = "zoe.private@corp.example";
  REQUIRE(store->put_link(link));

  auto find = [&](std::string_view q, int limit = 50, int offset = 0) {
    auto page = employee_search_json(*store, q, limit, offset);
    REQUIRE(page);
    return *page;
  };
  CHECK(ids(find("okafor")) == std::vector<std::string>{"E1", "E4"});   // by last name, then first
  CHECK(ids(find("alund")) == std::vector<std::string>{"E2"});          // diacritics aside
  CHECK(ids(find("ÅLUND")) == std::vector<std::string>{"E2"});
  CHECK(ids(find("иванов")) == std::vector<std::string>{"E3"});         // case in Cyrillic
  CHECK(ids(find("ivanov")) == std::vector<std::string>{"E3"});         // transliterated
  CHECK(ids(find("zoe.private")) == std::vector<std::string>{"E2"});    // the Zoom address
  CHECK(ids(find("E4@EXAMPLE")) == std::vector<std::string>{"E4"});     // the HR e-mail
  CHECK(ids(find("Dana Okafor")) == std::vector<std::string>{"E1"});    // the full name
  CHECK(ids(find("nobody")).empty());
  CHECK(find("").at("total") == 4);
  auto first = find("", 3, 0), second = find("", 3, 3);
  CHECK(first["more"] == true);
  CHECK(ids(first).size() == 3);
  CHECK(second["more"] == false);
  CHECK(ids(second).size() == 1);
  auto e2 = find("alund")["employees"][0];
  CHECK(e2["name"] == "Zoë Ålund");
  CHECK(e2["zoom_users"][0]["user_name"] == "zoe.private@corp.example");
}

TEST_CASE("event_changes_json: each call's changes with the name rules.yaml uses, nothing from a malformed result") {
  EventRow e;
  e.result = R"({"actions":[{"connection":"zoom","calls":[{"method":"PATCH","changes":[
      {"path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department","before":"Sales","after":"Product"}]}]}]})";
  auto changes = event_changes_json(e);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0]["short_path"] == "enterprise.department");
  CHECK(changes[0]["before"] == "Sales");
  CHECK(changes[0]["after"] == "Product");
  CHECK(changes[0]["connection"] == "zoom");
  for (const char* bad : {"", "not json", "[]", R"({"actions":7})", R"({"actions":[{"calls":[{"changes":[{"path":3}]}]}]})"}) {
    e.result = bad;
    CHECK(event_changes_json(e).empty());
  }
}
