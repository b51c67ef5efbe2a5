// Inbox: files still being written are not taken half-written (settling, changes during the read or
// the store), exports with no changes are accepted, and hostile names cannot forge log or report lines.
#include "hr/inbox.hpp"

#include "hr_test_util.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <ctime>

#include <fstream>
#include <sstream>

using namespace h2r;
using hr_test::file_text;
using hr_test::write_file;
using namespace std::chrono_literals;

namespace {

std::string line(int i) {
  return R"({"event_id":"e)" + std::to_string(i) + R"(","type":"terminate","employee":{"employee_id":"E)" +
         std::to_string(i) + "\"}}\n";
}

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  REQUIRE(out.good());
  out << text;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

struct Rig {
  hr_test::TempDir tmp;
  std::string dir = tmp / "inbox";
  FakeClock clock{from_unix_ms(1'795'860'000'000)};
  std::vector<std::pair<std::string, std::size_t>> calls;
  std::function<void(const std::string&)> on_store; // runs inside the sink
  std::unique_ptr<Inbox> inbox;

  Rig() {
    inbox = std::make_unique<Inbox>(InboxOptions{dir}, [this](const std::string& name, const std::vector<HrEvent>& events) -> Result<void> {
      calls.emplace_back(name, events.size());
      if (on_store) on_store(name);
      return {};
    }, clock);
    REQUIRE(inbox->prepare());
  }
  std::string in(const std::string& name) const { return dir + "/" + name; }
  std::string processed(const std::string& name) const { return dir + "/processed/" + name; }
};

// Captures what spdlog writes while it lives.
struct LogCapture {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  LogCapture() {
    auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous); }
  std::string text() const { return out.str(); }
};

} // namespace

TEST_CASE("rescan takes a file only once its size and mtime stayed the same for the settle interval") {
  Rig rig;
  REQUIRE(InboxOptions{}.settle == 2s);
  write_file(rig.in("x.ndjson"), line(1));
  auto first = rig.inbox->rescan();
  CHECK(first.settling == 1);
  CHECK(first.accepted == 0);
  CHECK(rig.calls.empty());

  rig.clock.advance(1500ms);
  append(rig.in("x.ndjson"), line(2)); // the writer is still at it
  CHECK(rig.inbox->rescan().settling == 1);
  rig.clock.advance(1500ms); // 3 s since the first look, 1.5 s since the last change
  CHECK(rig.inbox->take_settled().settling == 1);
  CHECK(rig.calls.empty());

  rig.clock.advance(500ms); // unchanged for 2 s now
  auto taken = rig.inbox->take_settled();
  CHECK(taken.accepted == 1);
  REQUIRE(rig.calls.size() == 1);
  CHECK(rig.calls[0] == std::pair<std::string, std::size_t>("x.ndjson", 2));
  CHECK(file_text(rig.processed("x.ndjson")) == line(1) + line(2));
  CHECK(rig.inbox->take_settled().settling == 0);
}

TEST_CASE("rescan takes at once a file last written longer ago than the settle interval (a restart)") {
  Rig rig;
  write_file(rig.in("old.ndjson"), line(1));
  write_file(rig.in("new.ndjson"), line(2));
  // old.ndjson was last written an hour ago, by the file system's clock.
  const struct timespec times[2] = {{0, UTIME_OMIT}, {::time(nullptr) - 3600, 0}};
  REQUIRE(::utimensat(AT_FDCWD, rig.in("old.ndjson").c_str(), times, 0) == 0);
  auto report = rig.inbox->rescan();
  CHECK(report.accepted == 1);
  CHECK(report.settling == 1);   // new.ndjson: just written, it waits
  CHECK(exists(rig.processed("old.ndjson")));
  CHECK(exists(rig.in("new.ndjson")));
}

TEST_CASE("scan (run --once) takes files at once, rescan does not settle symlinks or bad names") {
  Rig rig;
  write_file(rig.in("a.ndjson"), line(1));
  CHECK(rig.inbox->scan().accepted == 1);
  REQUIRE(::symlink("/etc/passwd", rig.in("link.json").c_str()) == 0);
  write_file(rig.in("notes.txt"), "x");
  auto report = rig.inbox->rescan();
  CHECK(report.rejected == 2);
  CHECK(report.settling == 0);
}

TEST_CASE("a file that grows while its events are stored is not moved, and is read again whole") {
  Rig rig;
  write_file(rig.in("x.ndjson"), line(1));
  bool appended = false;
  rig.on_store = [&](const std::string& name) {
    if (appended) return;
    appended = true;
    append(rig.in(name), line(2)); // the writer appends between the read and the move
  };
  LogCapture log;
  auto first = rig.inbox->scan();
  CHECK(first.accepted == 0);
  CHECK(first.settling == 1);
  CHECK(exists(rig.in("x.ndjson")));
  CHECK_FALSE(exists(rig.processed("x.ndjson")));
  CHECK(log.text().find("inbox.changed file=\"x.ndjson\" when=\"while being stored\"") != std::string::npos);

  // watch() reads it again once it settles; the sink gets every event again (it ignores the known ones).
  CHECK(rig.inbox->take_settled().settling == 1);
  rig.clock.advance(InboxOptions::k_default_settle);
  CHECK(rig.inbox->take_settled().accepted == 1);
  REQUIRE(rig.calls.size() == 2);
  CHECK(rig.calls[0].second == 1);
  CHECK(rig.calls[1].second == 2);
  CHECK(file_text(rig.processed("x.ndjson")) == line(1) + line(2));
}

TEST_CASE("an export with no changes is accepted with 0 events, an empty .json file is rejected") {
  Rig rig;
  write_file(rig.in("a-none.json"), "[]");
  write_file(rig.in("b-none.ndjson"), "");
  write_file(rig.in("c-none.csv"), "event_id,type,employee_id\n");
  write_file(rig.in("d-none.csv"), "");
  write_file(rig.in("e-none.jsonl"), "\n\n");
  write_file(rig.in("f-empty.json"), "");
  LogCapture log;
  auto report = rig.inbox->scan();
  CHECK(report.accepted == 5);
  CHECK(report.rejected == 1);
  REQUIRE(rig.calls.size() == 5);
  for (const auto& [name, events] : rig.calls) {
    CHECK(events == 0);
    CHECK(exists(rig.processed(name)));
    CHECK(log.text().find("inbox.accepted file=\"" + name + "\" events=0") != std::string::npos);
  }
  CHECK(file_text(rig.dir + "/rejected/f-empty.json.error.txt").find("file is empty (not JSON") != std::string::npos);
}

TEST_CASE("hostile file names cannot forge a log line or a report line") {
  Rig rig;
  const std::string fake = "2026-01-01 info inbox.accepted file=\"payroll.json\" events=999";
  const std::string names[] = {"x\n" + fake + "\ny.json", "r\r" + fake + ".json", "e\x1b[2K" + fake + ".json",
                               "u\xE2\x80\xA8" + fake + ".ndjson"};
  for (const auto& name : names) write_file(rig.in(name), line(1));
  write_file(rig.in("bad\n" + fake + "\n.csv"), "not,a,header\n");
  write_file(rig.in("z\n" + fake + "\n.xml"), "x");
  LogCapture log;
  auto report = rig.inbox->scan();
  CHECK(report.accepted == 4);
  CHECK(report.rejected == 2);
  const std::string text = log.text();
  CAPTURE(text);
  std::istringstream lines(text);
  int count = 0;
  for (std::string l; std::getline(lines, l); ++count) {
    CHECK(l.find('\r') == std::string::npos);
    CHECK(l.find('\x1b') == std::string::npos);
    CHECK(l.find("\xE2\x80\xA8") == std::string::npos);
    CHECK(l.rfind(fake, 0) != 0);
  }
  CHECK(count == 6); // one line per file
  for (const std::string& rejected : {"bad\n" + fake + "\n.csv", "z\n" + fake + "\n.xml"}) {
    const std::string body = file_text(rig.dir + "/rejected/" + rejected + ".error.txt");
    CAPTURE(body);
    CHECK(body.find("\n" + fake) == std::string::npos);
    CHECK(body.rfind("file: ", 0) == 0);
  }
}
