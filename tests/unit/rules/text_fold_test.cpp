#include "rules/text_fold.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace h2r;

TEST_CASE("text_fold: ascii strips diacritics from Latin-1 and Latin Extended-A") {
  struct Case {
    const char* in;
    const char* out;
  };
  const std::vector<Case> cases = {
      {"Zoë", "Zoe"},           {"Ålund", "Alund"},         {"Müller", "Muller"},   {"Øre", "Ore"},
      {"Straße", "Strasse"},    {"Æsir", "AEsir"},          {"Łukasz", "Lukasz"},   {"Çelik", "Celik"},
      {"François", "Francois"}, {"Dvořák", "Dvorak"},       {"Şahin", "Sahin"},     {"Œuvre", "OEuvre"},
      {"Þór", "THor"},          {"Ĳssel", "IJssel"},        {"Ștefan Țuțea", "Stefan Tutea"},
      {"José Núñez", "Jose Nunez"}, {"Ærø", "AEro"},        {"Żółć", "Zolc"},       {"Đorđe", "Dorde"},
      {"e\xCC\x81", "e"},       // e + combining acute
      {"O\xE2\x80\x99" "Brien", "O'Brien"},   // typographic apostrophe
      {"plain ascii 123", "plain ascii 123"},
      {"東京", "東京"},         // no ASCII form: kept
      {"bad\xFF" "utf8", "bad\xFF" "utf8"},      // invalid bytes pass through
      {"", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.in));
    CHECK(fold_ascii(c.in) == c.out);
  }
}

TEST_CASE("text_fold: lower and upper map ASCII and Latin letters") {
  CHECK(fold_lower("ÉMILE ZOLA") == "émile zola");
  CHECK(fold_lower("ÅLUND") == "ålund");
  CHECK(fold_lower("ŁUKASZ ŻÓŁW") == "łukasz żółw");
  CHECK(fold_lower("ŸÀ") == "ÿà");
  CHECK(fold_lower("×") == "×");      // the multiplication sign is not a letter
  CHECK(fold_upper("émile") == "ÉMILE");
  CHECK(fold_upper("łukasz") == "ŁUKASZ");
  CHECK(fold_upper("straße") == "STRAßE");
  CHECK(fold_upper("ÿ") == "Ÿ");
  CHECK(fold_upper("÷") == "÷");
  CHECK(fold_lower("MiXeD 42") == "mixed 42");
}

TEST_CASE("text_fold: trim") {
  CHECK(trim("  a b \t\n") == "a b");
  CHECK(trim("   ") == "");
  CHECK(trim("x") == "x");
}
