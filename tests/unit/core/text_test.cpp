// escape_for_log: the one escaping helper for untrusted text in log lines and reports.
#include "core/text.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace h2r;

TEST_CASE("escape_for_log: no control character, line separator or quote survives") {
  CHECK(escape_for_log("plain name.json") == "plain name.json");
  CHECK(escape_for_log("x\n2026-01-01 info inbox.accepted file=\"y.json\"\ny.json") ==
        "x\\x0A2026-01-01 info inbox.accepted file=\\\"y.json\\\"\\x0Ay.json");
  CHECK(escape_for_log("a\rb") == "a\\x0Db");
  CHECK(escape_for_log("\x1b[31mred") == "\\x1B[31mred");
  CHECK(escape_for_log(std::string("nul\0here", 8)) == "nul\\x00here");
  CHECK(escape_for_log("del\x7F") == "del\\x7F");
  CHECK(escape_for_log("back\\slash") == "back\\\\slash");
  // Unicode line and paragraph separators, C1 controls (NEL) and bidi overrides.
  CHECK(escape_for_log("a\xE2\x80\xA8" "b\xE2\x80\xA9" "c") == "a\\u{2028}b\\u{2029}c");
  CHECK(escape_for_log("nel\xC2\x85") == "nel\\xC2\\x85");
  CHECK(escape_for_log("\xE2\x80\xAEtxt.exe") == "\\u{202E}txt.exe");
  // Invalid UTF-8 bytes (a lone continuation, a truncated sequence, an overlong '/') one by one.
  CHECK(escape_for_log("a\x80z") == "a\\x80z");
  CHECK(escape_for_log("a\xE2\x80") == "a\\xE2\\x80");
  CHECK(escape_for_log("\xC0\xAF") == "\\xC0\\xAF");
  // Other scripts pass unchanged.
  CHECK(escape_for_log("Zoë Müller ПРОДАЖИ 営業") == "Zoë Müller ПРОДАЖИ 営業");
}

TEST_CASE("escape_for_log: quotes are chosen by the caller") {
  CHECK(escape_for_log("it's \"x\"", 300, "") == "it's \"x\"");
  CHECK(escape_for_log("it's \"x\"", 300, "'\"") == "it\\'s \\\"x\\\"");
  CHECK(escape_for_log("a\nb", 300, "") == "a\\x0Ab"); // controls always
}

TEST_CASE("escape_for_log: long text is cut on a UTF-8 boundary with an ellipsis") {
  const std::string long_text(1000, 'a');
  CHECK(escape_for_log(long_text) == std::string(k_log_value_max_bytes, 'a') + "…");
  CHECK(escape_for_log("abcdef", 6) == "abcdef");
  CHECK(escape_for_log("abcdefg", 6) == "abcdef…");
  // "é" is two bytes: a cut in its middle drops it whole.
  CHECK(escape_for_log("abcdé", 5) == "abcd…");
  CHECK(truncate_utf8("abcdé", 5) == "abcd…");
  CHECK(truncate_utf8("abcdé", 6) == "abcdé");
  CHECK(truncate_utf8("", 0).empty());
}
