// Streaming event file reader: the bytes of one event file are read a block at a time and its valid
// records handed to a sink in chunks, so that memory stays bounded whatever the file's size. The
// inbox uses it; parse_event_file (readers.hpp) reads a whole file held in memory and is what
// `h2rd plan` and reports about a whole file use.
//
// The two agree: for every file, the problems a streaming read reports are the ones parse_event_file
// reports. Record problems (a bad field, a duplicate key, a duplicate event_id) are found while
// streaming; a problem about the file as a whole (not UTF-8, a NUL byte, UTF-16, JSON or CSV syntax, a
// bad CSV header, JSON nested too deep, a line or record above k_max_stream_record_bytes) ends the
// read with StreamRead::read_whole: the caller then, for JSON, reads it once more with
// scan_json_file, which words a syntax error (or too many events) as parse_event_file would without
// holding the file; otherwise it reads the whole file (at most the inbox's max_file_bytes) with
// parse_event_file, which says exactly what is wrong (or, for UTF-16 and a single JSON object, reads it).
#pragma once

#include "core/error.hpp"
#include "hr/readers.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace h2r {

inline constexpr std::size_t k_stream_chunk_events = 1000;         // records per sink call
inline constexpr std::size_t k_max_stream_record_bytes = 8u << 20; // one NDJSON line / CSV record / JSON element

// Fills `buf` with up to `size` next bytes of the file; 0 at its end. An error of kind `invalid`
// rejects the file (e.g. it grew above the size limit), any other defers it.
using ByteReader = std::function<Result<std::size_t>(char* buf, std::size_t size)>;

// Receives the next valid records of the file, in file order (it may move them away). The sink finds
// event_ids repeated within the file (an earlier record of the same file has it) and appends one
// problem per repeat to `problems` (see duplicate_event_id_problem). An error stops the read.
using ChunkSink = std::function<Result<void>(std::vector<HrEvent>& events, std::vector<FileProblem>& problems)>;

struct StreamRead {
  bool read_whole = false;              // a problem about the whole file: read it with parse_event_file
  std::size_t events = 0;               // records handed to the sink
  std::vector<FileProblem> problems;    // sorted as parse_event_file sorts them; non-empty: reject
  std::vector<std::string> notes;       // as ParsedFile::notes
};

// Reads one file of `format` through `read`, handing chunks of at most `chunk_events` records to
// `sink`. Never throws. Memory: one block, one record and one chunk (plus, for CSV, the rows before
// the header), whatever the file's size. `dates`: how effective dates are read, as parse_event_file.
Result<StreamRead> read_event_stream(FileFormat format, const ByteReader& read, const ChunkSink& sink,
                                     std::size_t chunk_events = k_stream_chunk_events,
                                     const DateReading& dates = {});

// A JSON file the streaming read gave up on (StreamRead::read_whole), read again in one pass without
// being held in memory: its problems when they can be known that way, as parse_event_file reports
// them — a syntax error (after the duplicate keys before it), or a top-level array of more than
// k_max_records_per_file elements; nullopt when parse_event_file must read it whole (it is valid JSON
// but not an array of event objects, or blank, not UTF-8, holds a NUL, is UTF-16, nested too deep).
// Memory: one block and the keys of the objects open at a time.
Result<std::optional<std::vector<FileProblem>>> scan_json_file(const ByteReader& read);

// "record 4 (line 4): field 'event_id': duplicate event_id 'e1' (first in record 2)", as
// parse_event_file says it.
FileProblem duplicate_event_id_problem(const HrEvent& repeat, int first_record);

} // namespace h2r
