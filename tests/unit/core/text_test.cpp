// edit_distance and closest_match: the "did you mean" of `h2rd check`.
#include "core/text.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace h2r;

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
