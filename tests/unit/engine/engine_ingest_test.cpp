// The inbox → Engine::begin_ingest → SQLite path: a file is stored chunk by chunk in one transaction,
// and a file rejected late (after chunks were inserted) leaves nothing stored.
#include "core/time.hpp"
#include "engine/engine.hpp"
#include "fakes/fake_transport.hpp"
#include "hr/event_stream.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace h2r;
using namespace h2r::test;

namespace {

struct Rig {
  TempDir dir;
  std::unique_ptr<Store> store = open_sqlite_store((dir.path() / "h2r.db").string()).value();
  SecretBox box{SecretKey::from_bytes(std::string(32, 'k')).value()};
  FakeTransport transport;
  FakeClock clock{from_unix_ms(1'795'860'000'000)}; // 2026-11-28T10:00:00Z
  ConnectionRegistry registry{*store, box, transport, clock};
  Engine engine{*store, registry, [] { return RulesPtr(); }, EngineOptions{}, clock};
  std::string inbox_dir = (dir.path() / "inbox").string();
  int adds = 0; // chunks the engine's sessions received
  std::unique_ptr<Inbox> inbox;

  // The engine's session, counting the chunks it is given.
  class Counting final : public IngestSession {
  public:
    Counting(std::unique_ptr<IngestSession> inner, int& adds) : m_inner(std::move(inner)), m_adds(adds) {}
    Result<void> add(std::vector<HrEvent>& events, std::vector<FileProblem>& problems) override {
      ++m_adds;
      return m_inner->add(events, problems);
    }
    Result<void> commit() override { return m_inner->commit(); }

  private:
    std::unique_ptr<IngestSession> m_inner;
    int& m_adds;
  };

  Rig() {
    inbox = std::make_unique<Inbox>(
        InboxOptions{inbox_dir},
        [this](const std::string& name) -> Result<std::unique_ptr<IngestSession>> {
          auto session = engine.begin_ingest(name);
          if (!session) return unexpected(session.error());
          return std::unique_ptr<IngestSession>(std::make_unique<Counting>(std::move(*session), adds));
        },
        clock);
    REQUIRE(inbox->prepare());
  }
  void drop(const std::string& name, const std::string& content) {
    std::ofstream(inbox_dir + "/" + name, std::ios::binary) << content;
  }
  std::size_t stored() {
    EventFilter all;
    all.limit = 1'000'000;
    return store->list_events(all).value().size();
  }
  std::string report(const std::string& name) {
    std::ifstream in(inbox_dir + "/rejected/" + name + ".error.txt");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

std::string hire(int i) {
  const std::string n = std::to_string(i);
  return R"({"event_id":"e)" + n + R"(","type":"hire","effective_date":"2026-12-01","employee":{"employee_id":"E)" + n +
         R"(","email":"p)" + n + R"(@example.com"}})";
}

std::string ndjson(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += hire(i) + "\n";
  return out;
}

} // namespace

TEST_CASE("ingest: a good file is stored in chunks within one transaction") {
  Rig rig;
  const int n = static_cast<int>(k_stream_chunk_events) * 2 + 500;
  rig.drop("big.ndjson", ndjson(1, n));
  const ScanReport r = rig.inbox->scan();
  CHECK(r.accepted == 1);
  CHECK(rig.adds == 3);
  CHECK(rig.stored() == static_cast<std::size_t>(n));
  CHECK(rig.store->seen_fields().value().count("email") == 1);
}

TEST_CASE("ingest: a file whose last record is invalid leaves nothing stored, each format") {
  const int n = static_cast<int>(k_stream_chunk_events) * 2 + 10;
  std::string csv = "event_id,type,employee_id,email\n";
  std::string json = "[";
  for (int i = 1; i <= n; ++i) {
    const std::string k = std::to_string(i);
    csv += "e" + k + ",hire,E" + k + ",p" + k + "@example.com\n";
    json += hire(i) + ",";
  }
  struct Case {
    std::string name, content, expected;
  };
  const Case cases[] = {
      {"late.ndjson", ndjson(1, n) + R"({"event_id":"bad","type":"fire","employee":{"employee_id":"X"}})" "\n",
       "record " + std::to_string(n + 1) + " (line " + std::to_string(n + 1) + "): field 'type'"},
      {"late.csv", csv + "bad,hire,X,\n",
       "record " + std::to_string(n + 1) + " (line " + std::to_string(n + 2) + "): field 'email': is required for hire"},
      {"late.json", json + R"({"event_id":"bad","type":"hire","employee":{"employee_id":"X"}}])",
       "record " + std::to_string(n + 1) + ": field 'email': is required for hire"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Rig rig;
    rig.drop(c.name, c.content);
    CHECK(rig.inbox->scan().rejected == 1);
    CHECK(rig.adds >= 3); // chunks were inserted before the bad record was read
    CHECK(rig.stored() == 0);
    CHECK(rig.store->seen_fields().value().empty());
    const std::string report = rig.report(c.name);
    CHECK_MESSAGE(report.find(c.expected) != std::string::npos, report);
  }
}

TEST_CASE("ingest: a late bad effective date and a late encoding problem leave nothing stored") {
  const int n = static_cast<int>(k_stream_chunk_events) + 10;
  {
    Rig rig;
    rig.drop("date.ndjson", ndjson(1, n) + R"({"event_id":"d","type":"terminate","effective_date":"2150-01-01","employee":{"employee_id":"E1"}})" "\n");
    CHECK(rig.inbox->scan().rejected == 1);
    CHECK(rig.stored() == 0);
    CHECK(rig.report("date.ndjson").find("record " + std::to_string(n + 1) + " (line " + std::to_string(n + 1) +
                                         "): field 'effective_date'") != std::string::npos);
  }
  {
    Rig rig;
    rig.drop("latin1.ndjson", ndjson(1, n) + "{\"event_id\":\"Jos\xE9\"}\n");
    CHECK(rig.inbox->scan().rejected == 1);
    CHECK(rig.stored() == 0);
    CHECK(rig.report("latin1.ndjson").find("invalid UTF-8") != std::string::npos);
  }
}

TEST_CASE("ingest: duplicates across chunks — within the file rejected, known before ignored and counted") {
  const int n = static_cast<int>(k_stream_chunk_events) * 2;
  {
    Rig rig; // e5 again in the third chunk: the file is bad
    rig.drop("dup.ndjson", ndjson(1, n) + hire(5) + "\n");
    CHECK(rig.inbox->scan().rejected == 1);
    CHECK(rig.stored() == 0);
    CHECK(rig.report("dup.ndjson").find("record " + std::to_string(n + 1) + " (line " + std::to_string(n + 1) +
                                        "): field 'event_id': duplicate event_id 'e5' (first in record 5)") !=
          std::string::npos);
  }
  {
    Rig rig; // stored before: ignored; but twice in the new file is still a repeat within it
    rig.drop("a.ndjson", ndjson(1, 10));
    REQUIRE(rig.inbox->scan().accepted == 1);
    rig.drop("b.ndjson", ndjson(1, n) + hire(3) + "\n");
    CHECK(rig.inbox->scan().rejected == 1);
    CHECK(rig.report("b.ndjson").find("duplicate event_id 'e3' (first in record 3)") != std::string::npos);
    CHECK(rig.stored() == 10);
    rig.drop("c.ndjson", ndjson(1, n));
    CHECK(rig.inbox->scan().accepted == 1);
    CHECK(rig.stored() == static_cast<std::size_t>(n));
  }
}

TEST_CASE("ingest: the store reports duplicates as a count and the first ids, and repeats by record") {
  Rig rig;
  auto batch = rig.store->begin_ingest("x.ndjson", 1).value();
  auto event = [](const std::string& id, int record) {
    NewEvent e;
    e.event.event_id = id;
    e.event.employee_id = "E";
    e.event.type = EventType::terminate;
    e.event.record = record;
    return e;
  };
  std::vector<NewEvent> chunk;
  for (int i = 1; i <= 200; ++i) chunk.push_back(event("k" + std::to_string(i), i));
  REQUIRE(batch->add(chunk).value().empty());
  REQUIRE(batch->commit());
  batch = rig.store->begin_ingest("y.ndjson", 2).value();
  chunk.clear();
  for (int i = 1; i <= 200; ++i) chunk.push_back(event("k" + std::to_string(i), i)); // all known
  chunk.push_back(event("new", 201));
  REQUIRE(batch->add(chunk).value().empty());
  const auto repeats = batch->add({event("k7", 202), event("new", 203)}).value();
  REQUIRE(repeats.size() == 2);
  CHECK(repeats[0].index == 0);
  CHECK(repeats[0].first_record == 7);
  CHECK(repeats[1].first_record == 201);
  const IngestResult result = batch->commit().value();
  CHECK(result.inserted == 1);
  CHECK(result.duplicate_count == 200);
  CHECK(result.duplicates.size() == k_max_duplicates_listed);
  CHECK(result.duplicates.front() == "k1");
}

// A reload's time zone reaches a file being read: the daemon reschedules the waiting events when it
// reloads, so a file begun under the old zone and stored after must not keep the old zone's times.
TEST_CASE("engine ingest: a time zone reloaded while a file is read gives its events the new zone's times") {
  Rig rig;
  EngineOptions utc;
  utc.time_zone = "UTC";
  rig.engine.apply_options(utc);
  auto session = rig.engine.begin_ingest("late.json");
  REQUIRE(session);
  EngineOptions berlin;
  berlin.time_zone = "Europe/Berlin";
  rig.engine.apply_options(berlin);   // SIGHUP while the file is read

  HrEvent terminate;
  terminate.event_id = "t-1";
  terminate.type = EventType::terminate;
  terminate.employee_id = "E1";
  terminate.fields = {{"employee_id", "E1"}};
  terminate.effective_date = "2026-12-30";
  std::vector<HrEvent> events{terminate};
  std::vector<FileProblem> problems;
  REQUIRE((*session)->add(events, problems));
  REQUIRE((*session)->commit());
  auto row = rig.store->find_event("t-1");
  REQUIRE((row && row->has_value()));
  CHECK((*row)->state == EventState::waiting);
  CHECK((*row)->effective_at_ms == to_unix_ms(*parse_effective_date("2026-12-30", "Europe/Berlin")));
  CHECK((*row)->due_at_ms == to_unix_ms(*parse_effective_date("2026-12-30", "Europe/Berlin")));

  // A file begun after the reload is timed by the new zone from the start.
  auto next = rig.engine.begin_ingest("next.json");
  REQUIRE(next);
  HrEvent later = terminate;
  later.event_id = "t-2";
  later.employee_id = "E2";
  later.fields = {{"employee_id", "E2"}};
  std::vector<HrEvent> more{later};
  REQUIRE((*next)->add(more, problems));
  REQUIRE((*next)->commit());
  CHECK(rig.store->find_event("t-2").value()->due_at_ms == to_unix_ms(*parse_effective_date("2026-12-30", "Europe/Berlin")));
}
