// The event result written as text (engine/result_json.hpp) is the same bytes as the nlohmann document
// `events show` and the console parse: built the old way here and compared.
#include "engine/result_json.hpp"

#include <doctest/doctest.h>

using namespace h2r;

namespace {

std::string via_document(const std::string& why, const std::vector<ResultTarget>& targets,
                         const std::vector<ActionReport>& actions) {
  nlohmann::json targets_json = nlohmann::json::array();
  for (const auto& t : targets) targets_json.push_back({{"connection", t.connection}, {"role", t.role}});
  nlohmann::json actions_json = nlohmann::json::array();
  for (const auto& a : actions) actions_json.push_back(a.to_json());
  return nlohmann::json{{"why", why}, {"targets", targets_json}, {"actions", actions_json}}.dump();
}

ActionReport created() {
  ActionReport r{"zoom-main", "created", "u-1", "ann@example.com"};
  r.calls.push_back({"POST", "ann@example.com", "Users", "create",
                     {{"active", nlohmann::json(), true},
                      {"displayName", nlohmann::json(), "Ann \"The\" Lee\\"},
                      {"name.givenName", nlohmann::json(), "Ann\n\t\b\f\r\x01\x1f\x7f é ✓"},
                      {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value", nlohmann::json(),
                       "boss@example.com"}}});
  r.calls.push_back({"PATCH", "g-9", "Groups", "add to group Sales", {}});
  return r;
}

ActionReport updated() {
  ActionReport r{"zoom-eu", "updated", "u-2", "bob@example.com"};
  r.calls.push_back({"PUT", "u-2", "Users", "update",
                     {{"title", "Old", nlohmann::json()},
                      {"urn:ietf:params:scim:schemas:extension:zoom:1.0:User.licenseInfoList", nlohmann::json::array({1, 2}),
                       nlohmann::json::object({{"b", 1.5}, {"a", -3}})},
                      {"userType", 1, 2}}});
  r.calls.push_back({"PATCH", "u-2", "Users", "reactivate", {{"active", false, true}}});
  return r;
}

} // namespace

TEST_CASE("result json: the text written directly is the nlohmann document's dump, byte for byte") {
  SUBCASE("a create and an update in two connections") {
    std::vector<ResultTarget> targets = {{"zoom-main", "staff"}, {"zoom-eu", ""}};
    std::vector<ActionReport> actions = {created(), updated()};
    CHECK(event_result_json("hire: \"staff\"\n", targets, actions) == via_document("hire: \"staff\"\n", targets, actions));
  }
  SUBCASE("nothing to do") {
    CHECK(event_result_json("no rule matched", {}, {}) == via_document("no rule matched", {}, {}));
  }
  SUBCASE("an action without calls") {
    ActionReport absent{"zoom-main", "absent", "", "x@example.com"};
    std::vector<ResultTarget> targets = {{"zoom-main", ""}};
    CHECK(event_result_json("terminate", targets, {absent}) == via_document("terminate", targets, {absent}));
  }
  SUBCASE("escapes at the start, the end, side by side and between long runs") {
    for (const std::string& text :
         {std::string("\"lead"), std::string("trail\\"), std::string("\n\r\"\\\x02"), std::string(300, 'a') + "\t" + std::string(300, 'b'),
          std::string("\x1f"), std::string(""), std::string("\x7f plain"), std::string("4-byte \xf0\x9f\x98\x80 and \xe2\x9c\x93"),
          std::string("nul \0 inside", 12)}) {
      ActionReport r{"zoom-main", "created", text, text};
      r.calls.push_back({"POST", text, "Users", text, {{text, text, nlohmann::json(text)}}});
      r.calls.push_back({"PUT", text, "Users", "update", {}});
      CHECK(event_result_json(text, {{text, text}}, {r}) == via_document(text, {{text, text}}, {r}));
    }
  }
  SUBCASE("bytes that are not UTF-8 pass through as they are (nlohmann's strict dump would throw)") {
    ActionReport r{"zoom-main", "created", "u-\xff", "a\xc3(b\x80\"c"};
    CHECK(event_result_json("w\xfe", {}, {r}) ==
          "{\"actions\":[{\"action\":\"created\",\"calls\":[],\"connection\":\"zoom-main\",\"userName\":\"a\xc3(b\x80\\\"c\","
          "\"user_id\":\"u-\xff\"}],\"targets\":[],\"why\":\"w\xfe\"}");
  }
  SUBCASE("what events show reads back") {
    auto parsed = nlohmann::json::parse(event_result_json("hire", {{"zoom-main", "staff"}}, {created()}));
    CHECK(parsed["actions"][0]["calls"][0]["changes"][1]["after"] == "Ann \"The\" Lee\\");
    CHECK(parsed["actions"][0]["calls"][1]["path"] == "/Groups/g-9");
    CHECK(parsed["targets"][0]["role"] == "staff");
  }
}
