// The test-support helpers: TempDir, run_process, ChildProcess.
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <fstream>

using namespace std::chrono_literals;

TEST_CASE("TempDir creates a folder and removes it with its content") {
  std::filesystem::path kept;
  {
    h2r::test::TempDir dir;
    kept = dir.path();
    CHECK(std::filesystem::is_directory(kept));
    const auto file = dir.write("sub/a.txt", "hello");
    CHECK(file == dir.file("sub/a.txt"));
    std::ifstream in(file);
    std::string text;
    std::getline(in, text);
    CHECK(text == "hello");
  }
  CHECK_FALSE(std::filesystem::exists(kept));
}

TEST_CASE("run_process captures stdout, stderr, exit code, stdin and env, without a shell") {
  const auto cat = h2r::test::run_process({"cat"}, "from stdin\n");
  CHECK(cat.exit_code == 0);
  CHECK(cat.out == "from stdin\n");
  CHECK_FALSE(cat.timed_out);

  const auto env = h2r::test::run_process({"printenv", "H2R_TEST_VAR"}, {}, {{"H2R_TEST_VAR", "a b;c"}});
  CHECK(env.out == "a b;c\n");

  const auto missing = h2r::test::run_process({"ls", "/definitely/not/here"});
  CHECK(missing.exit_code != 0);
  CHECK_FALSE(missing.err.empty());

  const auto slow = h2r::test::run_process({"sleep", "30"}, {}, {}, 100ms);
  CHECK(slow.timed_out);
  CHECK(slow.exit_code == -1);

  CHECK_THROWS_AS(h2r::test::run_process({"/no/such/program"}), std::runtime_error);
}

TEST_CASE("ChildProcess: signal, wait, output so far") {
  h2r::test::ChildProcess child({"sh", "-c", "echo ready; exec sleep 30"});
  CHECK(child.wait_for_out("ready", 10s));
  CHECK(child.running());
  CHECK_FALSE(child.wait(10ms).has_value());
  child.send_signal(SIGTERM);
  const auto code = child.wait(10s);
  REQUIRE(code.has_value());
  CHECK(*code == 128 + SIGTERM);
  CHECK(child.out() == "ready\n");
}
