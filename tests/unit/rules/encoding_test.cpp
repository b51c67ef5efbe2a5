// The rules file must be UTF-8: a bad byte is refused at its line:col, before yaml-cpp (which does not
// check) could pass it into a template literal and on into a SCIM body that cannot be serialised.
// Found by fuzz_rules (tests/fuzz/corpus/fuzz_rules/regress_invalid_utf8_literal.yaml).
#include "rules/rules.hpp"
#include "rules_test_util.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace h2r;

TEST_CASE("rules encoding: invalid UTF-8 anywhere is one error at its line:col") {
  struct Case {
    std::string text;
    int line;
    int column;
  };
  const std::string head = test::k_rules_head;  // three lines
  const Case cases[] = {
      {head + "attributes: { userName: \"{email}\xff\" }\n", 4, 33},       // in a template literal
      {head + "attributes: { userName: \"{email}\", title: \"\xc3\x28\" }\n", 4, 44},  // bad continuation
      {head + "attributes: { title: \"\xed\xa0\x80\" }\n", 4, 23},       // UTF-16 surrogate
      {head + "attributes: { title: \"\xc0\xaf\" }\n", 4, 23},           // overlong '/'
      {"\xfe" + head, 1, 1},                                               // first byte of the file
      {head + "# comment \xe9t\xe9\n", 4, 11},                              // Latin-1 in a comment
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto rules = load_rules_text(c.text, "rules.yaml");
    REQUIRE_FALSE(rules);
    REQUIRE(rules.error().size() == 1);
    const Diagnostic& d = rules.error().front();
    CHECK(d.file == "rules.yaml");
    CHECK(d.line == c.line);
    CHECK(d.column == c.column);
    CHECK(d.message == "invalid UTF-8 (the rules file must be UTF-8 text)");
    CHECK_FALSE(d.warning);
  }
}

TEST_CASE("rules encoding: valid UTF-8 and a byte-order mark load, and reach the SCIM body intact") {
  const auto rules = test::must_load(std::string("\xef\xbb\xbf") + test::k_rules_head +
                                     "attributes: { userName: \"{email}\", title: \"Zo\xc3\xab \xf0\x9f\x98\x80\" }\n");
  const auto decisions = rules->decide({{"employee_id", "E1"}, {"email", "a@b.co"}});
  REQUIRE(decisions.size() == 1);
  REQUIRE(decisions[0].desired);
  CHECK(decisions[0].desired->body["title"] == "Zo\xc3\xab \xf0\x9f\x98\x80");
  CHECK_NOTHROW((void)decisions[0].desired->body.dump());
}
