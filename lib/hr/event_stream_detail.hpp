// Internals of the streaming reader (event_stream.hpp), shared by its JSON and CSV parts.
#pragma once

#include "hr/event_stream.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h2r::hr_detail {

// The bytes of one file, a block at a time. The caller skips a byte-order mark through available()
// and consume().
class StreamInput {
public:
  explicit StreamInput(const ByteReader& read) : m_read(read) {}

  // Reads until at least `bytes` are available or the file ends.
  Result<void> want(std::size_t bytes);
  std::string_view available() const { return std::string_view(m_buf).substr(m_pos); }
  void consume(std::size_t bytes) { m_pos += bytes; }
  bool at_end() const { return m_eof && m_pos >= m_buf.size(); }

  // The next line without its '\n' (the last one may lack it), valid until the next call; nullopt at
  // the end of the file. `too_long` is set (and nullopt returned) for a line above `max_bytes`.
  Result<std::optional<std::string_view>> next_line(std::size_t max_bytes, bool& too_long);

private:
  Result<bool> read_more(); // false at the end of the file

  const ByteReader& m_read;
  std::string m_buf;
  std::size_t m_pos = 0;
  bool m_eof = false;
};

// Collects records into chunks for the sink, and the problems the sink finds.
class ChunkOut {
public:
  ChunkOut(const ChunkSink& sink, std::size_t chunk_events, StreamRead& read)
      : m_sink(sink), m_chunk_events(chunk_events == 0 ? 1 : chunk_events), m_read(read) {}
  Result<void> push(HrEvent&& event);
  Result<void> flush();
  // Above k_max_problems_listed: which ones a whole-file read lists depends on its order, so the
  // caller reads the file whole.
  bool too_many_problems() const { return m_read.problems.size() > k_max_problems_listed; }

private:
  const ChunkSink& m_sink;
  std::size_t m_chunk_events;
  StreamRead& m_read;
  std::vector<HrEvent> m_events;
  std::vector<FileProblem> m_found;
};

// True when `text` is valid UTF-8 without a NUL byte (otherwise the whole-file reader reports it).
bool clean_text(std::string_view text);

// CSV: reads the rest of `in` (after any byte-order mark).
Result<void> stream_csv(StreamInput& in, ChunkOut& out, StreamRead& read, const DateReading& dates);

} // namespace h2r::hr_detail
