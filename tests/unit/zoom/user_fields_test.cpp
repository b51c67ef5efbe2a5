// read_user_fields against the SAX reader it replaces (nlohmann::json::sax_parse taking the top-level
// id, userName and active): the same texts accepted, the same values taken — on hand-picked texts and
// on many byte-level mutations of real answers.
#include "zoom/user_fields.hpp"
#include "support/user_fields_reference.hpp"

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <random>
#include <vector>

using namespace h2r;

namespace {

void same_as_reference(const std::string& text) {
  CAPTURE(text);
  UserFields expected, got;
  const bool expected_ok = test::read_user_fields_reference(text, expected);
  const bool ok = read_user_fields(text, got);
  REQUIRE(ok == expected_ok);
  if (!ok) return;
  CHECK(got.id == expected.id);
  CHECK(got.user_name == expected.user_name);
  CHECK(got.active == expected.active);
}

const std::string k_answer =
    R"({"active":true,"emails":[{"primary":true,"type":"work","value":"ann@example.com"}],"id":"u-9Xa_1",)"
    R"("meta":{"created":"2026-01-02T03:04:05Z","location":"https://api.zoom.us/scim2/Users/u-9Xa_1",)"
    R"("resourceType":"User","version":"W/\"1\""},"name":{"familyName":"Lee","givenName":"Ann \u00e9 ✓ 😀"},)"
    R"("schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"urn:x":{"id":"no","active":false,"n":[1,-2.5e3,0]},)"
    R"("userName":"ann@example.com","userType":1})";

} // namespace

TEST_CASE("user fields: the same texts accepted and the same values as nlohmann's SAX reader") {
  const std::vector<std::string> texts = {
           k_answer, std::string("\xEF\xBB\xBF") + k_answer, " \t\r\n" + k_answer + " \n",
           R"({"id":"a","id":"b","userName":"x","active":false,"active":true})",
           R"({"id":7,"userName":null,"active":"false"})", R"({"id":{"id":"x"},"userName":["y"]})",
           R"({"i\u0064":"\u0061\n\"\\\/\b\f\r\t\ud83d\ude00","user\u004eame":"Z"})", R"(["id","u"])", R"("id")",
           "{}", "[]", "0", "-0", "1.5e-3", "1E+2", "123456789012345678901234567890", "1e400", "-1e999", "1e-400",
           std::string(400, '9'), "01", "1.", ".5", "+1", "-", "1e", "--1", "tru", "truex", "nul", "null", "false",
           R"({"id":"u",})", R"({"id":"u"})" "x", R"({"id" "u"})", R"({,})", R"([1,])", R"([,1])", "[1 2]",
           R"({"a":1}})", R"({"a":[}])", "", " ", "\xEF\xBB", "\xEF\xBB\xBF", R"({"id":"a)", R"({"id":"a\)",
           R"({"id":"\x"})", R"({"id":"\u12"})", R"({"id":"\u12G4"})", R"({"id":"\ud800"})", R"({"id":"\ud800\u0041"})",
           R"({"id":"\udc00"})", R"({"id":"\ud800\udbff"})", R"({"id":"\uDBFF\uDFFF"})", "{\"id\":\"a\tb\"}",
           "{\"id\":\"a\x01\"}", "{\"id\":\"a\x7f\"}", "{\"id\":\"\xc3\xa9\"}", "{\"id\":\"\xc0\xaf\"}",
           "{\"id\":\"\xc3\"}", "{\"id\":\"\xe0\x9f\x80\"}", "{\"id\":\"\xe0\xa0\x80\"}", "{\"id\":\"\xed\xa0\x80\"}",
           "{\"id\":\"\xed\x9f\xbf\"}", "{\"id\":\"\xf0\x8f\xbf\xbf\"}", "{\"id\":\"\xf0\x90\x80\x80\"}",
           "{\"id\":\"\xf4\x8f\xbf\xbf\"}", "{\"id\":\"\xf4\x90\x80\x80\"}", "{\"id\":\"\xf5\x80\x80\x80\"}",
           "{\"id\":\"\xff\"}", "{\"id\":\"\x80\"}", std::string("{\"id\":\"a\0b\"}", 11), std::string("{}\0", 3), std::string("{\"id\":\"u\"} \0 junk", 15), std::string("{\0}", 3), std::string("\0{}", 3),
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", std::string(5000, '[') + std::string(5000, ']')};
  for (const std::string& text : texts) same_as_reference(text);
}

TEST_CASE("user fields: byte mutations of a real answer are accepted or refused as nlohmann does") {
  std::mt19937 random(20261202);
  const std::string bytes = "{}[]\",:\\/ 0123456789-+.eEtrufalsn\x01\x7f\xc3\xa9\xed\xf0\x80\xbf\xff" "u\"id";
  for (int round = 0; round < 4000; ++round) {
    std::string text = k_answer;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = random() % (text.size() + 1);
      const char byte = bytes[random() % bytes.size()];
      switch (random() % 3) {
      case 0: if (at < text.size()) text[at] = byte; break;
      case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte); break;
      default: if (at < text.size()) text.erase(at, 1 + random() % 4); break;
      }
    }
    same_as_reference(text);
  }
}
