// escape_for_log (the one escaping helper for untrusted text in log lines and reports), and
// edit_distance and closest_match (the "did you mean" of `h2rd check`).
#include "core/text.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

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
  // Already-escaped report lines keep their backslashes single; a line break is still escaped.
  CHECK(escape_for_log("in 'Jos\\xE9'\nforged", 300, "", false) == "in 'Jos\\xE9'\\x0Aforged");
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

TEST_CASE("edit_distance counts inserts, deletes, replacements and adjacent swaps as one edit each") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("first_name", "first_name") == 0);
  CHECK(edit_distance("frist_name", "first_name") == 1);   // a swap is one edit, not two
  CHECK(edit_distance("zoom-mian", "zoom-main") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("emial", "email") == 1);
  CHECK(edit_distance("Email", "email") == 1);              // bytes: case counts here
  CHECK(edit_distance("ca", "abc") == 3);                   // OSA: no edit of a swapped pair
  CHECK(edit_distance(std::string(2000, 'a'), "a") == 2000); // too long to compare: no match
}

TEST_CASE("closest_match suggests a near name, ignores ASCII case, and stays quiet when nothing is close") {
  const std::vector<std::string> fields{"employee_id", "first_name", "last_name", "email", "department"};
  CHECK(closest_match("frist_name", fields) == std::optional<std::string>("first_name"));
  CHECK(closest_match("Employee_ID", fields) == std::optional<std::string>("employee_id"));
  CHECK(closest_match("emial", fields) == std::optional<std::string>("email"));
  CHECK_FALSE(closest_match("badge_number", fields));
  CHECK_FALSE(closest_match("first_name", {"first_name"}));  // itself is no suggestion
  CHECK(closest_match("zoom-mian", {"zoom-backup", "zoom-main"}) == std::optional<std::string>("zoom-main"));
  CHECK_FALSE(closest_match("zoom-mian", {}));
  CHECK_FALSE(closest_match("eu", {"us"}));                 // 2 letters: one edit at most... and "eu"→"us" is 2
}

TEST_CASE("sha256_hex: the FIPS 180-2 test vectors, also from several threads") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::vector<std::thread> threads;
  std::atomic<int> right{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      if (sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        ++right;
    });
  for (auto& thread : threads) thread.join();
  CHECK(right == 4);
}
