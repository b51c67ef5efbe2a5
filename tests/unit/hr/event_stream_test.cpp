// The streaming reader says what parse_event_file says about every file, reading it in small blocks
// and handing its records over in small chunks; only files with a problem about the whole of them
// (or UTF-16) are read whole.
#include "hr/event_stream.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>

using namespace h2r;

namespace {

std::string problems_text(const std::vector<FileProblem>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.to_string() + "\n";
  return out;
}

std::string events_text(const std::vector<HrEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    out += e.event_id + "@" + std::to_string(e.record) + ":" + std::to_string(e.line) + " " + e.employee_id + " " +
           e.effective_date + " {";
    for (const auto& [k, v] : e.fields) out += k + "=" + v.value_or("<null>") + ";";
    out += "}\n";
  }
  return out;
}

// How the inbox ended up reading a file.
enum Read { streamed = 0, scanned, whole };

struct Streamed {
  Read read = streamed;
  ParsedFile file;
  std::size_t largest_chunk = 0;
  int chunks = 0;
};

// What the inbox does: stream; when told to, scan a JSON file once more (scan_json_file), and parse
// the whole file only when that cannot tell. The sink finds repeated event_ids as an ingest session must.
Streamed stream(FileFormat format, const std::string& content, std::size_t block, std::size_t chunk) {
  Streamed out;
  std::size_t at = 0;
  const ByteReader read = [&](char* buf, std::size_t size) -> Result<std::size_t> {
    const std::size_t n = std::min({size, block, content.size() - at});
    std::memcpy(buf, content.data() + at, n);
    at += n;
    return n;
  };
  std::unordered_map<std::string, int> first;
  const ChunkSink sink = [&](std::vector<HrEvent>& events, std::vector<FileProblem>& problems) -> Result<void> {
    ++out.chunks;
    out.largest_chunk = std::max(out.largest_chunk, events.size());
    for (auto& e : events) {
      auto [it, inserted] = first.emplace(e.event_id, e.record);
      if (!inserted) problems.push_back(duplicate_event_id_problem(e, it->second));
      out.file.events.push_back(std::move(e));
    }
    return {};
  };
  auto r = read_event_stream(format, read, sink, chunk);
  REQUIRE(r);
  if (r->read_whole && format == FileFormat::json) {
    at = 0;
    auto known = scan_json_file(read);
    REQUIRE(known);
    CHECK(at == content.size()); // read to its end: what parse_event_file checks first may lie there
    if (*known) {
      out.read = scanned;
      out.file = ParsedFile{{}, std::move(**known), {}};
      return out;
    }
  }
  if (r->read_whole) {
    out.read = whole;
    out.file = parse_event_file(format, content);
  } else {
    out.file.problems = std::move(r->problems);
    out.file.notes = std::move(r->notes);
    CHECK(r->events == out.file.events.size());
    if (!out.file.problems.empty()) out.file.events.clear();
  }
  return out;
}

// Streams `content` at several block and chunk sizes; each says exactly what parse_event_file says.
// Returns how it was read (streamed: 0, false).
Read same_as_whole(FileFormat format, const std::string& content) {
  const ParsedFile whole = parse_event_file(format, content);
  Read read = streamed;
  for (std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{1000}}) {
      CAPTURE(block);
      CAPTURE(chunk);
      const Streamed s = stream(format, content, block, chunk);
      CHECK(problems_text(s.file.problems) == problems_text(whole.problems));
      CHECK(events_text(s.file.events) == events_text(whole.events));
      CHECK(s.file.notes == whole.notes);
      CHECK(s.largest_chunk <= chunk);
      read = s.read;
    }
  }
  return read;
}

std::string ndjson_hire(int i, const std::string& extra = "") {
  const std::string n = std::to_string(i);
  return R"({"event_id":"e)" + n + R"(","type":"hire","effective_date":"2026-12-01","employee":{"employee_id":"E)" + n +
         R"(","email":"p)" + n + R"(@example.com","first_name":"Zoë")" + extra + "}}";
}

const char* k_csv_header = "event_id,type,employee_id,email,title\n";

} // namespace

TEST_CASE("stream: good files are streamed in chunks, never read whole, and read as parse_event_file reads them") {
  std::string nd, arr = "[", csv = k_csv_header;
  for (int i = 1; i <= 12; ++i) {
    nd += ndjson_hire(i) + (i % 3 == 0 ? "\r\n\n  \n" : "\n");
    arr += (i > 1 ? ",\n  " : "\n  ") + ndjson_hire(i);
    csv += "c" + std::to_string(i) + ",hire,E" + std::to_string(i) + ",p" + std::to_string(i) +
           "@example.com,\"Engineer,\r\n \"\"Senior\"\"\"\n" + (i % 4 == 0 ? ",,,,\n\n" : "");
  }
  arr += "\n]\n";
  CHECK_FALSE(same_as_whole(FileFormat::ndjson, nd));
  CHECK_FALSE(same_as_whole(FileFormat::ndjson, "\xEF\xBB\xBF" + nd));
  CHECK_FALSE(same_as_whole(FileFormat::json, arr));
  CHECK_FALSE(same_as_whole(FileFormat::json, " [ ] "));
  CHECK_FALSE(same_as_whole(FileFormat::csv, csv));
  CHECK_FALSE(same_as_whole(FileFormat::csv, "\xEF\xBB\xBF" "\n,,\n" + csv));
  CHECK_FALSE(same_as_whole(FileFormat::csv, "Event ID;Type;Employee ID;E-Mail;;\r\nc1;terminate;E1;;;\r\n"));
  CHECK_FALSE(same_as_whole(FileFormat::csv, "event_id\ttype\temployee_id\n"));
  CHECK_FALSE(same_as_whole(FileFormat::ndjson, ""));
  CHECK_FALSE(same_as_whole(FileFormat::ndjson, "\n \n"));

  const Streamed s = stream(FileFormat::ndjson, nd, 64, 5);
  CHECK(s.chunks == 3); // 5 + 5 + 2
  CHECK(s.file.events.size() == 12);
}

TEST_CASE("stream: record problems name record and line as parse_event_file does, for each format") {
  // NDJSON
  const std::string nd = ndjson_hire(1) + "\n\nnot json\n[1]\n" + ndjson_hire(4, R"(,"email":"x")") + "\n" +
                         R"({"event_id":"e5","type":"fire","employee":{"employee_id":"E5"}})" + "\n" + ndjson_hire(6) +
                         "\n" + ndjson_hire(7, R"(,"a":{"b":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]})") + "\n";
  CHECK_FALSE(same_as_whole(FileFormat::ndjson, nd));
  const Streamed s = stream(FileFormat::ndjson, nd, 16, 2);
  const std::string p = problems_text(s.file.problems);
  CHECK(p.find("record 2 (line 3): not valid JSON") != std::string::npos);
  CHECK(p.find("record 3 (line 4): an event must be a JSON object, not an array") != std::string::npos);
  CHECK(p.find("record 4 (line 5): field 'email': duplicate key") != std::string::npos);
  CHECK(p.find("record 5 (line 6)") != std::string::npos);
  CHECK(p.find("record 7 (line 8): JSON nested deeper than 16 levels") != std::string::npos);

  // JSON array: records, no lines
  const std::string arr = "[" + ndjson_hire(1) + ",\n" + ndjson_hire(2, R"(,"email":"y")") + ",\n" +
                          R"({"event_id":"e3","type":"hire","employee":{"employee_id":"E3"}})" + "]";
  CHECK_FALSE(same_as_whole(FileFormat::json, arr));
  const std::string pa = problems_text(stream(FileFormat::json, arr, 5, 1).file.problems);
  CHECK(pa.find("record 2: field 'email': duplicate key") != std::string::npos);
  CHECK(pa.find("record 3: field 'email': is required for hire") != std::string::npos);

  // CSV: records and the line each starts on
  const std::string csv = std::string(k_csv_header) + "c1,hire,E1,a@example.com,\"two\nlines\"\n\nc2,hire,E2,,\nc3,fire,E3,,\n" +
                          "c4,terminate\n";
  CHECK_FALSE(same_as_whole(FileFormat::csv, csv));
  const std::string pc = problems_text(stream(FileFormat::csv, csv, 3, 1).file.problems);
  CHECK(pc.find("record 2 (line 5): field 'email': is required for hire") != std::string::npos);
  CHECK(pc.find("record 3 (line 6)") != std::string::npos);
  CHECK(pc.find("record 4 (line 7): has 2 fields, the header has 5") != std::string::npos);
}

TEST_CASE("stream: a duplicate event_id across chunks is reported with the record it repeats") {
  std::string nd;
  for (int i = 1; i <= 7; ++i) nd += ndjson_hire(i) + "\n";
  nd += ndjson_hire(2) + "\n" + ndjson_hire(8) + "\n" + ndjson_hire(5) + "\n";
  CHECK_FALSE(same_as_whole(FileFormat::ndjson, nd));
  const Streamed s = stream(FileFormat::ndjson, nd, 4096, 3);
  CHECK(problems_text(s.file.problems) ==
        "record 8 (line 8): field 'event_id': duplicate event_id 'e2' (first in record 2)\n"
        "record 10 (line 10): field 'event_id': duplicate event_id 'e5' (first in record 5)\n");
}

TEST_CASE("stream: problems about the whole file are read whole and worded as today") {
  const std::string good = ndjson_hire(1) + "\n" + ndjson_hire(2) + "\n";
  // Not UTF-8, late in the file (after chunks went to the sink); NUL; UTF-16 with and without a mark.
  CHECK(same_as_whole(FileFormat::ndjson, good + "{\"a\":\"Jos\xE9\"}\n") == whole);
  CHECK(same_as_whole(FileFormat::ndjson, good + std::string("a\0b\n", 4)));
  CHECK(same_as_whole(FileFormat::csv, std::string(k_csv_header) + "c1,terminate,E1,,\nc2,terminate,E2,,Jos\xE9\n"));
  CHECK(same_as_whole(FileFormat::csv, std::string(k_csv_header) + "c1,terminate,E1,,\n\xC3\n"));
  CHECK(same_as_whole(FileFormat::csv, std::string("\xFF\xFE" "e\0,\0t\0\n\0", 10)));
  CHECK(same_as_whole(FileFormat::csv, std::string("e\0v\0e\0n\0", 8)));
  CHECK(same_as_whole(FileFormat::json, std::string("\xFE\xFF", 2)) == whole);
  // JSON: blank, one object, non-object elements, too deep: read whole.
  CHECK(same_as_whole(FileFormat::json, "  \n") == whole);
  CHECK(same_as_whole(FileFormat::json, ndjson_hire(1)) == whole);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + ", 1, {\"a\":1,\"a\":2}]") == whole);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + "," + std::string(20, '[') + std::string(20, ']') + "]") == whole);
  // Syntax errors and text after the array: worded by one more streaming pass, never read whole.
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + "," + ndjson_hire(2) + " " + ndjson_hire(3) + "]") == scanned);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + ",]") == scanned);
  CHECK(same_as_whole(FileFormat::json, "\xEF\xBB\xBF[\n" + ndjson_hire(1) + ",\n]") == scanned);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + "] x") == scanned);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + "") == scanned);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + ",{\"x\":\"unterminated]") == scanned);
  CHECK(same_as_whole(FileFormat::json, "[{\"a\":1,\"a\":2},\n{\"b\":{\"c\":1,\"c\":1},\"b\":3,") == scanned);
  // ... unless what parse_event_file checks before the syntax comes after the error: it says that.
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + ",] \"Jos\xE9\"") == whole);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + ",] \"\xC3") == whole);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + std::string(",] \0", 4)) == whole);
  CHECK(same_as_whole(FileFormat::json, "[" + ndjson_hire(1) + ",] " + std::string(20, '[')) == whole);
  CHECK(same_as_whole(FileFormat::json, "[" + std::string(20, '{')) == whole);
  // CSV: syntax late in the file, header problems (which a later syntax error overrides), no header.
  CHECK(same_as_whole(FileFormat::csv, std::string(k_csv_header) + "c1,fire,E1,,\nc2,terminate,\"E2\n"));
  CHECK(same_as_whole(FileFormat::csv, std::string(k_csv_header) + "c1,fire,E1,,\nc2,termi\"nate,E2,,\n"));
  CHECK(same_as_whole(FileFormat::csv, "type,first_name\nhire,A\n"));
  CHECK(same_as_whole(FileFormat::csv, "Employe ID,event_id,Event Type,name\nE1,e1,terminate,x\n"));
  CHECK(same_as_whole(FileFormat::csv, "type,first_name\nhire,A\nx,\"y\n"));
  CHECK(same_as_whole(FileFormat::csv, ",,\n\n,,\n"));
  // Lone CRs (no LF): one "line" below k_max_stream_record_bytes, split into rows as a whole file is.
  CHECK_FALSE(same_as_whole(FileFormat::csv, "event_id,type,employee_id\re1,terminate,E1\re2,fire,E2\r"));
}

TEST_CASE("stream: more than k_max_problems_listed problems are listed as parse_event_file lists them") {
  std::string nd;
  for (int i = 1; i <= 1100; ++i) nd += R"({"event_id":"x)" + std::to_string(i) + R"(","type":"fire","employee":{"employee_id":"E"}})" "\n";
  CHECK(same_as_whole(FileFormat::ndjson, nd));
}

// Issue 26 item 14: more than k_max_records_per_file elements are counted by the streaming scan, not
// read into memory whole.
TEST_CASE("stream: a JSON array of more than k_max_records_per_file elements is refused by a streaming scan") {
  std::string content = "[";
  for (std::size_t i = 0; i <= k_max_records_per_file; ++i) content += "1,";
  content.back() = ']';
  const ParsedFile whole_file = parse_event_file(FileFormat::json, content);
  REQUIRE(whole_file.problems.size() == 1);
  CHECK(whole_file.problems[0].message == "more than " + std::to_string(k_max_records_per_file) + " events");
  const Streamed s = stream(FileFormat::json, content, 4096, 1000);
  CHECK(s.read == scanned);
  CHECK(problems_text(s.file.problems) == problems_text(whole_file.problems));
}
