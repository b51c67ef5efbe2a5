// The console's token file: created 0600 with one reviewer token, refused when others may read it,
// every bad line named by file and line.
#include "console/console_tokens.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace h2r;

TEST_CASE("console tokens: a missing file is created 0600 with one reviewer token, and read back the same") {
  test::TempDir dir;
  const std::string path = dir.file("h2r.db.console-tokens").string();
  auto made = load_console_tokens(path, true);
  REQUIRE(made);
  REQUIRE(made->size() == 1);
  CHECK(made->front().name == "admin");
  CHECK(made->front().role == ConsoleRole::reviewer);
  CHECK(made->front().value.size() == 64);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = load_console_tokens(path, true);
  REQUIRE(again);
  CHECK(again->front().value == made->front().value);
  CHECK_FALSE(load_console_tokens(dir.file("absent").string(), false));
}

TEST_CASE("console tokens: a file group or others may read is refused, naming the mode and the fix") {
  test::TempDir dir;
  const std::string path = dir.write("tokens", "reviewer admin " + std::string(64, 'a') + "\n").string();
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  auto r = load_console_tokens(path, true);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("chmod 600") != std::string::npos);
}

TEST_CASE("console tokens: each bad line is named by file and line") {
  const std::string t = std::string(64, 'a');
  auto bad = [](const std::string& text, const std::string& expected) {
    auto r = parse_console_tokens(text, "F");
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().message.find(expected) != std::string::npos, r.error().message);
  };
  bad("# only a comment\n", "no token");
  bad("admin reviewer " + t + "\n", "F:1: the role");
  bad("\nreviewer ad/min " + t + "\n", "F:2: the name");
  bad("reviewer admin 1234\n", "F:1: the token");
  bad("reviewer admin " + t + "\nviewer admin " + std::string(64, 'b') + "\n", "F:2: the name 'admin' is used twice");
  bad("reviewer a " + t + "\nviewer b " + t + "\n", "F:2: this token is used twice");
  bad("reviewer admin " + t + " extra\n", "4 words");
  auto ok = parse_console_tokens("# c\nreviewer alice " + t + "\r\n  viewer bob\t" + std::string(64, 'b') + "\n", "F");
  REQUIRE(ok);
  REQUIRE(ok->size() == 2);
  CHECK(ok->at(1).role == ConsoleRole::viewer);
  CHECK(same_secret(ok->at(0).value, t));
  CHECK_FALSE(same_secret(ok->at(0).value, ok->at(1).value));
}
