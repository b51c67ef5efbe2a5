// parse_flat_object: the SAX reading of events.fields and employees.record gives what
// nlohmann::json::parse + a copy gave, and refuses what was refused as damaged.
#include "store/flat_json.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <random>

using namespace h2r;

TEST_CASE("flat json: string and null values decode as the JSON parser decodes them") {
  FieldPatch fields;
  REQUIRE(parse_flat_object(R"({"a":"x","b":null,"esc":"q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","empty":""})", fields));
  CHECK(fields.size() == 4);
  CHECK(fields.at("a") == "x");
  CHECK_FALSE(fields.at("b").has_value());
  CHECK(fields.at("empty") == "");
  const auto dom = nlohmann::json::parse(R"("q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00")").get<std::string>();
  CHECK(fields.at("esc") == dom);
  FieldPatch none;
  CHECK(parse_flat_object(" {} ", none));
  CHECK(none.empty());
  FieldPatch repeated;
  REQUIRE(parse_flat_object(R"({"k":"1","k":"2"})", repeated));
  CHECK(repeated.at("k") == "2");

  EmployeeRecord record;
  REQUIRE(parse_flat_object(R"({"email":"a@example.com","title":"Dr. \"X\""})", record));
  CHECK(record.at("title") == "Dr. \"X\"");
}

TEST_CASE("flat json: anything but one flat object of strings (or nulls for fields) is refused") {
  for (const char* bad : {"", "null", "\"s\"", "[]", "[{}]", "{", "{\"a\":\"x\"", "{\"a\":1}", "{\"a\":true}",
                          "{\"a\":{}}", "{\"a\":[]}", "{\"a\":\"x\"} {}", "{\"a\":\"x\"}x", "{\"a\":\"\xff\"}"}) {
    CAPTURE(bad);
    FieldPatch fields;
    CHECK_FALSE(parse_flat_object(bad, fields));
    EmployeeRecord record;
    CHECK_FALSE(parse_flat_object(bad, record));
  }
  EmployeeRecord record;
  CHECK_FALSE(parse_flat_object(R"({"a":null})", record));   // a record holds strings only
}

TEST_CASE("flat json: on random near-JSON text the result equals nlohmann::json::parse's") {
  // Pieces that make valid objects often and every kind of near miss (escapes, non-ASCII, numbers,
  // nesting, truncation, whitespace) the short loop must either read exactly or hand to the parser.
  const std::vector<std::string> pieces = {"{", "}", "\"", "\"a\"", "\"k\"", ":", ",", " ", "\n", "\t", "null", "nul",
                                           "\"x y\"", "\\\"", "\\n", "\\u00e9", "\xc3\xa9", "\xff", "1", "[", "]",
                                           "true", "\"\"", "\x7f", "\x01", "{\"a\":\"b\"}", "\"v\":null"};
  const std::vector<std::string> content_pieces = {"a", "B", " ", "key", "\\n", "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9",
                                                   "\\\"", "\\\\", "\xff", "\x7f", "\x01", "\t", "~"};
  std::mt19937 rng(16);
  int objects = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    if (round % 2) {   // noise
      const int count = static_cast<int>(rng() % 12);
      if (rng() % 2) text = "{\"";
      for (int p = 0; p < count; ++p) text += pieces[rng() % pieces.size()];
      if (rng() % 2) text += "\"}";
    } else {           // an object of string-ish members, sometimes with one piece inserted or one byte cut
      auto ws = [&] { return std::string(rng() % 3 == 0 ? " \n" : ""); };
      auto content = [&] {
        std::string c;
        for (int k = static_cast<int>(rng() % 4); k > 0; --k) c += content_pieces[rng() % content_pieces.size()];
        return c;
      };
      text = ws() + "{" + ws();
      for (int m = static_cast<int>(rng() % 4); m > 0; --m) {
        text += "\"" + content() + std::to_string(m) + "\"" + ws() + ":" + ws();   // keys differ (see the header)
        const auto kind = rng() % 8;
        text += kind == 0 ? std::string("null") : kind == 1 ? std::string("1") : "\"" + content() + "\"";
        text += ws() + (m > 1 ? "," : "") + ws();
      }
      text += "}" + ws();
      if (rng() % 3 == 0 && !text.empty()) {
        const std::size_t at = rng() % text.size();
        if (rng() % 2) text.erase(at, 1);
        else text.insert(at, pieces[rng() % pieces.size()]);
      }
    }
    CAPTURE(text);
    auto dom = nlohmann::json::parse(text, nullptr, false);
    std::optional<FieldPatch> expected;
    if (dom.is_object()) {
      expected.emplace();
      for (const auto& [name, value] : dom.items()) {
        if (value.is_null()) (*expected)[name] = std::nullopt;
        else if (value.is_string()) (*expected)[name] = value.get<std::string>();
        else expected.reset();
        if (!expected) break;
      }
    }
    FieldPatch got;
    const bool ok = parse_flat_object(text, got);
    CHECK(ok == expected.has_value());
    if (ok && expected) {
      CHECK(got == *expected);
      ++objects;
    }
  }
  CHECK(objects > 500);   // the generator does reach the accepting path
}

TEST_CASE("flat json: dump_flat_object writes what nlohmann::json's dump writes, byte for byte") {
  const std::vector<std::string> pieces = {"", "a", "Jill", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x7f", "\xc3\xa9",
                                           "\xff", "\xe2\x82", "~", "{}", "null", "x@example.com"};
  std::mt19937 rng(16);
  auto text = [&] {
    std::string t;
    for (int k = static_cast<int>(rng() % 4); k > 0; --k) t += pieces[rng() % pieces.size()];
    return t;
  };
  for (int round = 0; round < 5000; ++round) {
    FieldPatch fields;
    EmployeeRecord record;
    nlohmann::json fields_json = nlohmann::json::object(), record_json = nlohmann::json::object();
    for (int m = static_cast<int>(rng() % 5); m > 0; --m) {
      const std::string name = text();
      const std::string value = text();
      const bool null = rng() % 4 == 0;
      fields[name] = null ? std::nullopt : std::optional<std::string>(value);
      fields_json[name] = null ? nlohmann::json(nullptr) : nlohmann::json(value);
      record[name] = value;
      record_json[name] = value;
    }
    constexpr auto k_replace = nlohmann::json::error_handler_t::replace;
    CAPTURE(fields_json.dump(-1, ' ', true, k_replace));
    CHECK(dump_flat_object(fields) == fields_json.dump(-1, ' ', false, k_replace));
    CHECK(dump_flat_object(record) == record_json.dump(-1, ' ', false, k_replace));
  }
  CHECK(dump_flat_object(FieldPatch{}) == "{}");
  CHECK(dump_flat_object(FieldPatch{{"a", "x"}, {"b", std::nullopt}}) == R"({"a":"x","b":null})");
}
