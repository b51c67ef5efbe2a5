#include "hr/inbox.hpp"

#include "hr/report_name.hpp"
#include "hr_test_util.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace h2r;
using hr_test::file_text;
using hr_test::write_file;
namespace fs = std::filesystem;

namespace {

const char* k_good =
    R"({"event_id":"e1","type":"hire","employee":{"employee_id":"E1","email":"a@example.com"}})";

struct Fixture {
  hr_test::TempDir tmp;
  std::string dir = tmp / "inbox";
  FakeClock clock{from_unix_ms(1'795'860'000'000)}; // 2026-11-28T10:00:00Z
  std::mutex mutex;
  std::vector<std::pair<std::string, std::size_t>> calls; // file name, event count
  std::vector<Result<void>> answers;                      // next sink answers; empty: success
  InboxOptions options{dir};
  std::unique_ptr<Inbox> inbox;

  Fixture() { make(); }
  void make() {
    inbox = std::make_unique<Inbox>(options, [this](const std::string& name, const std::vector<HrEvent>& events) -> Result<void> {
      std::lock_guard lock(mutex);
      calls.emplace_back(name, events.size());
      if (answers.empty()) return {};
      auto answer = answers.front();
      answers.erase(answers.begin());
      return answer;
    }, clock);
    REQUIRE(inbox->prepare());
  }
  std::size_t call_count() {
    std::lock_guard lock(mutex);
    return calls.size();
  }
  std::string in(const std::string& name) const { return dir + "/" + name; }
  std::string processed(const std::string& name) const { return dir + "/processed/" + name; }
  std::string rejected(const std::string& name) const { return dir + "/rejected/" + name; }
};

bool exists_nofollow(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

} // namespace

// Issue 26: the unit's UMask=0077 must not take the group's read bits from what HR reads.
TEST_CASE("under umask 0077 the folders are made 0750 and a rejection report 0640") {
  struct UmaskGuard {
    mode_t old = ::umask(0077);
    ~UmaskGuard() { ::umask(old); }
  } umask_guard;
  Fixture f;
  for (const auto& path : {f.dir, f.dir + "/processed", f.dir + "/rejected"}) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0750);
  }
  write_file(f.in("bad.json"), "[{\"event_id\":");
  CHECK(f.inbox->scan().rejected == 1);
  struct stat st {};
  REQUIRE(::stat(f.rejected(hr_detail::report_name("bad.json")).c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
}

TEST_CASE("prepare creates the folders with mode 0750 and refuses a file in their place") {
  Fixture f;
  for (const auto& path : {f.dir, f.dir + "/processed", f.dir + "/rejected"}) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 0777 & ~0750) == 0);
  }
  CHECK(f.inbox->prepare()); // idempotent

  hr_test::TempDir other;
  write_file(other / "processed", "x");
  Inbox bad({other.path()}, [](auto&, auto&) -> Result<void> { return {}; }, f.clock);
  auto r = bad.prepare();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("processed exists but is not a directory") != std::string::npos);
}

TEST_CASE("a good file is stored and moved to processed/") {
  Fixture f;
  write_file(f.in("a.json"), k_good);
  auto report = f.inbox->scan();
  CHECK(report.accepted == 1);
  CHECK(report.rejected == 0);
  REQUIRE(f.calls.size() == 1);
  CHECK(f.calls[0] == std::pair<std::string, std::size_t>("a.json", 1));
  CHECK_FALSE(exists_nofollow(f.in("a.json")));
  CHECK(file_text(f.processed("a.json")) == k_good);
  CHECK(f.inbox->scan().accepted == 0); // nothing left
}

TEST_CASE("files are taken in name order, dot, .tmp and .part names and sub-folders are ignored") {
  Fixture f;
  write_file(f.in("b.ndjson"), k_good);
  write_file(f.in("a.csv"), "event_id,type,employee_id\nc1,terminate,E1\n");
  write_file(f.in(".hidden.json"), k_good);
  write_file(f.in("x.json.tmp"), k_good);
  write_file(f.in("y.json.part"), k_good);
  fs::create_directory(f.in("sub.json"));
  auto report = f.inbox->scan();
  CHECK(report.accepted == 2);
  CHECK(report.rejected == 0);
  REQUIRE(f.calls.size() == 2);
  CHECK(f.calls[0].first == "a.csv");
  CHECK(f.calls[1].first == "b.ndjson");
  for (const char* name : {".hidden.json", "x.json.tmp", "y.json.part", "sub.json"}) CHECK(exists_nofollow(f.in(name)));
}

TEST_CASE("a bad file is rejected whole with a report listing every problem") {
  Fixture f;
  write_file(f.in("mixed.ndjson"), std::string(k_good) + "\n\n" +
                                       R"({"event_id":"e2","type":"hire","employee":{"employee_id":"E2","email":"nope"}})" + "\n" +
                                       R"({"event_id":"e3","type":"fire","employee":{"employee_id":"E3"}})" + "\n");
  auto report = f.inbox->scan();
  CHECK(report.rejected == 1);
  CHECK(f.calls.empty()); // the good record was not stored either
  CHECK_FALSE(exists_nofollow(f.in("mixed.ndjson")));
  CHECK(exists_nofollow(f.rejected("mixed.ndjson")));
  const std::string text = file_text(f.rejected("mixed.ndjson.error.txt"));
  CHECK(text.find("file: mixed.ndjson\n") != std::string::npos);
  CHECK(text.find("problems: 2\n") != std::string::npos);
  CHECK(text.find("record 2 (line 3): field 'email': not a plausible e-mail address") != std::string::npos);
  CHECK(text.find("record 3 (line 4): field 'type': unknown event type 'fire'") != std::string::npos);
}

// Issue 26 item 14: a 60 MB JSON file with a syntax error at its end took 80 s and 651 MB to reject
// (read whole, parsed into a document twice). A few MB show the path: one more streaming pass words
// the error; the file is never read whole. A file that does need the whole-file reader still gets it.
TEST_CASE("a large JSON file with a syntax error at its end is rejected without being read whole") {
  Fixture f;
  std::string content = "[\n";
  int records = 0;
  while (content.size() < (4u << 20)) {
    const std::string n = std::to_string(++records);
    content += (records > 1 ? ",\n" : "") + std::string(R"({"event_id":"e)") + n +
               R"(","type":"hire","employee":{"employee_id":"E)" + n + R"(","email":"p)" + n + R"(@example.com"}})";
  }
  content += "\n,]\n"; // the syntax error, on the last line but one
  write_file(f.in("big.json"), content);
  const auto whole_before = Inbox::whole_file_reads();
  CHECK(f.inbox->scan().rejected == 1);
  CHECK(Inbox::whole_file_reads() == whole_before);
  CHECK(f.calls.empty());
  const std::string text = file_text(f.rejected("big.json.error.txt"));
  CHECK(text.find("problems: 1\n") != std::string::npos);
  CHECK(text.find("not valid JSON: parse error at line " + std::to_string(records + 2) + ", column 2: syntax error") !=
        std::string::npos);

  // Valid JSON that is not an array of event objects: only the whole-file reader words that.
  write_file(f.in("scalar.json"), "[" + std::string(k_good) + ", 1]");
  CHECK(f.inbox->scan().rejected == 1);
  CHECK(Inbox::whole_file_reads() == whole_before + 1);
}

TEST_CASE("hostile files are rejected without being read, followed or blocked on") {
  Fixture f;
  SUBCASE("symlink: moved as a link, its target neither read nor moved") {
    const std::string target = f.tmp / "secret.json";
    write_file(target, k_good);
    REQUIRE(::symlink(target.c_str(), f.in("link.json").c_str()) == 0);
    CHECK(f.inbox->scan().rejected == 1);
    CHECK(f.calls.empty());
    CHECK(file_text(target) == k_good);
    CHECK(fs::is_symlink(f.rejected("link.json")));
    CHECK(file_text(f.rejected("link.json.error.txt")).find("is a symbolic link") != std::string::npos);
  }
  SUBCASE("FIFO: does not block, moved to rejected/") {
    REQUIRE(::mkfifo(f.in("pipe.json").c_str(), 0600) == 0);
    CHECK(f.inbox->scan().rejected == 1);
    CHECK(fs::is_fifo(f.rejected("pipe.json")));
    CHECK(file_text(f.rejected("pipe.json.error.txt")).find("is a FIFO, not a regular file") != std::string::npos);
  }
  SUBCASE("over the size limit: decided from its size, not its content") {
    { std::ofstream(f.in("big.json")); }
    fs::resize_file(f.in("big.json"), (64ull << 20) + 1); // sparse, all NUL: would be "binary" if read
    CHECK(f.inbox->scan().rejected == 1);
    CHECK(file_text(f.rejected("big.json.error.txt")).find("is 67108865 bytes, above the limit of 67108864 bytes") != std::string::npos);
  }
  SUBCASE("deep nesting") {
    write_file(f.in("deep.json"), std::string(100000, '[') + std::string(100000, ']'));
    CHECK(f.inbox->scan().rejected == 1);
    CHECK(file_text(f.rejected("deep.json.error.txt")).find("nested deeper than 16 levels") != std::string::npos);
  }
  SUBCASE("invalid UTF-8") {
    write_file(f.in("latin1.csv"), "event_id,type,employee_id,name\ne1,terminate,E1,Zo\xEB\n");
    CHECK(f.inbox->scan().rejected == 1);
    CHECK(file_text(f.rejected("latin1.csv.error.txt")).find("record 1 (line 2): field 'name': invalid UTF-8 in 'Zo\\xEB'") != std::string::npos);
  }
  SUBCASE("binary garbage") {
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919 + 13) % 256);
    write_file(f.in("junk.jsonl"), junk);
    CHECK(f.inbox->scan().rejected == 1);
    CHECK(exists_nofollow(f.rejected("junk.jsonl.error.txt")));
  }
  SUBCASE("empty file") {
    write_file(f.in("empty.json"), "");
    CHECK(f.inbox->scan().rejected == 1);
    CHECK(file_text(f.rejected("empty.json.error.txt")).find("file is empty") != std::string::npos);
  }
  SUBCASE("unknown extension") {
    write_file(f.in("events.xml"), "<x/>");
    CHECK(f.inbox->scan().rejected == 1);
    CHECK(file_text(f.rejected("events.xml.error.txt")).find("accepted: .json, .ndjson, .jsonl, .csv") != std::string::npos);
  }
  CHECK(f.calls.empty());
}

TEST_CASE("a name already in processed/ or rejected/ gets a suffix, never an overwrite") {
  Fixture f;
  write_file(f.processed("a.json"), "old");
  write_file(f.in("a.json"), k_good);
  CHECK(f.inbox->scan().accepted == 1);
  CHECK(file_text(f.processed("a.json")) == "old");
  CHECK(file_text(f.processed("a.json.20261128T100000Z-1")) == k_good);

  write_file(f.in("b.json"), "{");
  write_file(f.in("c.json"), "[");
  f.inbox->scan();
  write_file(f.in("b.json"), "{{");
  f.inbox->scan();
  CHECK(file_text(f.rejected("b.json")) == "{");
  CHECK(file_text(f.rejected("b.json.20261128T100000Z-1")) == "{{");
  CHECK(exists_nofollow(f.rejected("b.json.error.txt")));
  CHECK(file_text(f.rejected("b.json.20261128T100000Z-1.error.txt")).find("moved to: rejected/b.json.20261128T100000Z-1") != std::string::npos);
}

TEST_CASE("sink errors: invalid rejects the file, anything else defers it to the next scan") {
  Fixture f;
  f.answers.push_back(unexpected(Error::transient("database is locked")));
  write_file(f.in("a.json"), k_good);
  auto first = f.inbox->scan();
  CHECK(first.deferred == 1);
  CHECK(exists_nofollow(f.in("a.json")));
  auto second = f.inbox->scan();
  CHECK(second.accepted == 1);
  CHECK(f.calls.size() == 2);
  CHECK(exists_nofollow(f.processed("a.json")));

  f.answers.push_back(unexpected(Error::invalid("event e1 conflicts with stored event")));
  write_file(f.in("b.json"), k_good);
  CHECK(f.inbox->scan().rejected == 1);
  CHECK(file_text(f.rejected("b.json.error.txt")).find("event e1 conflicts with stored event") != std::string::npos);
}

TEST_CASE("purge_old deletes files older than the retention period") {
  Fixture f;
  write_file(f.processed("old.json"), "x");
  write_file(f.rejected("old.json.error.txt"), "x");
  fs::create_directory(f.rejected("folder"));
  const auto now = std::chrono::system_clock::now();
  f.clock.set(now + std::chrono::hours(24 * 29));
  f.inbox->purge_old();
  CHECK(exists_nofollow(f.processed("old.json")));
  f.clock.set(now + std::chrono::hours(24 * 31));
  f.inbox->purge_old();
  CHECK_FALSE(exists_nofollow(f.processed("old.json")));
  CHECK_FALSE(exists_nofollow(f.rejected("old.json.error.txt")));
  CHECK(exists_nofollow(f.rejected("folder")));
}

TEST_CASE("watch takes a file renamed into the inbox and stops on shutdown") {
  Fixture f;
  f.options.settle = std::chrono::milliseconds(0); // the fake clock never moves: no settling in this test
  f.make();
  Shutdown shutdown;
  std::thread watcher([&] { f.inbox->watch(shutdown); });
  write_file(f.in("x.json.tmp"), k_good);
  REQUIRE(::rename(f.in("x.json.tmp").c_str(), f.in("x.json").c_str()) == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (f.call_count() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  shutdown.request();
  watcher.join();
  REQUIRE(f.call_count() == 1);
  CHECK(f.calls[0].first == "x.json");
  CHECK(exists_nofollow(f.processed("x.json")));
}

TEST_CASE("inbox: a rejected file with a 255-byte name gets a report whose name fits (truncated + hash)") {
  Fixture f;
  const std::string name = std::string(250, 'n') + ".json";   // NAME_MAX: NAME.error.txt would be 265 bytes
  REQUIRE(name.size() == hr_detail::k_max_name_bytes);
  write_file(f.in(name), R"({"event_id":"e1","type":"fire","employee":{"employee_id":"E1"}})");
  CHECK(f.inbox->scan().rejected == 1);
  CHECK(exists_nofollow(f.rejected(name)));
  const std::string report = hr_detail::report_name(name);
  CHECK(report.size() == hr_detail::k_max_name_bytes);
  CHECK(report.ends_with(".error.txt"));
  CHECK(report.find('~') != std::string::npos);
  const std::string text = file_text(f.rejected(report));
  CHECK(text.find("file: " + name + "\n") != std::string::npos);   // the report names the whole file
  CHECK(text.find("unknown event type 'fire'") != std::string::npos);

  // The same name again: the moved file takes a suffix, shortened to fit too, and gets its own report.
  write_file(f.in(name), "not json");
  CHECK(f.inbox->scan().rejected == 1);
  CHECK_FALSE(exists_nofollow(f.in(name)));
  int reports = 0;
  for (const auto& entry : fs::directory_iterator(f.dir + "/rejected")) {
    CHECK(entry.path().filename().string().size() <= hr_detail::k_max_name_bytes);
    if (entry.path().filename().string().ends_with(".error.txt")) ++reports;
  }
  CHECK(reports == 2);
}

TEST_CASE("inbox: fitted_name keeps short names and makes long ones distinct, cut on UTF-8 boundaries") {
  CHECK(hr_detail::fitted_name("a.json", ".error.txt") == "a.json.error.txt");
  const std::string a = std::string(240, 'x') + "-a.json", b = std::string(240, 'x') + "-b.json";
  CHECK(hr_detail::fitted_name(a, ".error.txt") != hr_detail::fitted_name(b, ".error.txt"));
  std::string utf8 = "a";   // then 2-byte characters: the plain cut (228 bytes) would split one
  while (utf8.size() < 250) utf8 += "é";
  const std::string fitted = hr_detail::fitted_name(utf8, ".error.txt");
  CHECK(fitted.size() <= hr_detail::k_max_name_bytes);
  const std::string kept = fitted.substr(0, fitted.find('~'));
  CHECK(kept.size() == 227);   // backed up over the continuation byte: no half character
  CHECK(utf8.starts_with(kept));
}

// Issue 25 item 5: processed/ or rejected/ replaced by a symlink while h2r runs (any writer of a
// group-writable inbox can do it) must not make h2r move files into the link's target, nor purge there.
TEST_CASE("processed/ and rejected/ replaced by symlinks: nothing is moved into nor purged from their target") {
  Fixture f;
  hr_test::TempDir elsewhere;
  write_file(elsewhere / "precious.json", "x");
  for (const char* sub : {"processed", "rejected"}) {
    fs::remove_all(f.dir + "/" + sub);
    fs::create_directory_symlink(elsewhere.path(), f.dir + "/" + sub);
  }
  write_file(f.in("good.json"), k_good);
  write_file(f.in("bad.json"), "{not json");
  const auto report = f.inbox->scan();
  CHECK(report.accepted == 0);
  CHECK(report.rejected == 0);
  CHECK_FALSE(exists_nofollow(elsewhere / "good.json"));
  CHECK_FALSE(exists_nofollow(elsewhere / "bad.json"));
  CHECK_FALSE(exists_nofollow(elsewhere / "bad.json.error.txt"));
  CHECK(exists_nofollow(f.in("good.json")));   // left where it is, to be taken once the folder is fixed
  CHECK(exists_nofollow(f.in("bad.json")));

  f.clock.set(std::chrono::system_clock::now() + std::chrono::hours(24 * 365));
  f.inbox->purge_old();
  CHECK(exists_nofollow(elsewhere / "precious.json"));

  // Fixed: the next scan takes them.
  for (const char* sub : {"processed", "rejected"}) {
    fs::remove(f.dir + "/" + sub);
    fs::create_directory(f.dir + "/" + sub);
  }
  const auto again = f.inbox->scan();
  CHECK(again.accepted == 1);
  CHECK(again.rejected == 1);
  CHECK(exists_nofollow(f.processed("good.json")));
}

// A reload that raises limits.max_file_bytes (Inbox::set_limits) holds for the whole read: the size check
// before opening used the new limit, the count of bytes read the start-up one, so a file between the two
// was rejected as "grew while being read".
TEST_CASE("inbox: a file above the start-up limit but within a reloaded one is read and stored") {
  Fixture f;
  f.options.max_file_bytes = 64;
  f.make();
  REQUIRE(std::string(k_good).size() > 64);
  f.inbox->set_limits(1 << 20, 30);
  write_file(f.in("a.json"), k_good);
  const auto report = f.inbox->scan();
  CHECK(report.rejected == 0);
  CHECK(f.call_count() == 1);
  CHECK(file_text(f.processed("a.json")) == k_good);
}

TEST_CASE("a file named like h2r's own events (rules:, on-demand:) is rejected, and nothing of it is stored") {
  Fixture f;
  for (const char* name : {"rules:abc.json", "on-demand:cli:root.json"}) {
    write_file(f.in(name), k_good);
    auto report = f.inbox->scan();
    CHECK(report.rejected == 1);
    CHECK(f.call_count() == 0);
    CHECK(file_text(f.rejected(name) + ".error.txt").find("named like h2r's own events") != std::string::npos);
  }
  write_file(f.in("my-rules:abc.json"), k_good);   // only at the start
  CHECK(f.inbox->scan().accepted == 1);
}
