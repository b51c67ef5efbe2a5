// append_json_string writes what nlohmann's dump (ensure_ascii false, replace) writes, byte for byte:
// the stores keep events' fields in that text, and old rows must compare equal to new ones.
#include "core/json_text.hpp"
#include "core/utf8.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <random>

using namespace h2r;

namespace {

std::string by_nlohmann(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string by_us(const std::string& text) {
  std::string out = "x";   // appends: what is there stays
  append_json_string(out, text);
  return out.substr(1);
}

} // namespace

TEST_CASE("json text: strings are written as nlohmann's dump writes them") {
  const std::vector<std::string> cases = {
      "", "plain", "Ana María Pérez", "中文名字", "emoji \xF0\x9F\x98\x80 here", "quote \" and back \\ slash",
      std::string("nul \0 inside", 12), "\b\f\n\r\t", "\x01\x1f\x7f", "tab\tend", "\xC3\xA9\xE2\x82\xAC",
      // not UTF-8: a lone continuation byte, a truncated sequence, an overlong form, a surrogate, > U+10FFFF
      "bad \x80 byte", "cut \xE2\x82", "overlong \xC0\xAF", "surrogate \xED\xA0\x80", "big \xF4\x90\x80\x80",
      "\xFF\xFE", "mixed \"\xE9\" \n"};
  for (const auto& text : cases) {
    CAPTURE(text);
    CHECK(by_us(text) == by_nlohmann(text));
  }
}

TEST_CASE("json text: random bytes are written as nlohmann's dump writes them") {
  std::mt19937 rng(20261202);
  std::uniform_int_distribution<int> len(0, 24), byte(0, 255), pick(0, 3);
  const std::string samples[] = {"é", "€", "😀", "\"", "\\", "\n"};
  int invalid = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (int i = len(rng); i > 0; --i) {
      if (pick(rng) == 0) text += samples[static_cast<std::size_t>(byte(rng)) % std::size(samples)];
      else text += static_cast<char>(byte(rng));
    }
    invalid += !is_valid_utf8(text);
    CAPTURE(text);
    REQUIRE(by_us(text) == by_nlohmann(text));
  }
  CHECK(invalid > 1000);   // both paths were taken
  CHECK(invalid < 20000);
}

TEST_CASE("json text: is_valid_utf8 agrees with nlohmann's strict dump") {
  const std::vector<std::string> cases = {"ok", "é", "\xED\x9F\xBF", "\xEE\x80\x80", "\xF4\x8F\xBF\xBF",
                                          "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC1\xBF", "\xE0\x9F\xBF", "\x80"};
  for (const auto& text : cases) {
    bool strict_ok = true;
    try {
      (void)nlohmann::json(text).dump();
    } catch (const nlohmann::json::exception&) {
      strict_ok = false;
    }
    CAPTURE(text);
    CHECK(is_valid_utf8(text) == strict_ok);
  }
}
