#include "hr/event_stream.hpp"

#include "hr/event_stream_detail.hpp"
#include "hr/json_events.hpp"
#include "hr/text_checks.hpp"

#include <algorithm>
#include <istream>
#include <new>
#include <optional>
#include <streambuf>

namespace h2r {
namespace hr_detail {

namespace {

constexpr std::size_t k_block_bytes = 1 << 16;

// A UTF-16 byte-order mark (either order) at the start of `head`.
bool utf16_mark(std::string_view head) {
  return head.size() >= 2 && ((head[0] == '\xFF' && head[1] == '\xFE') || (head[0] == '\xFE' && head[1] == '\xFF'));
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string more_than_records() { return "more than " + std::to_string(k_max_records_per_file) + " events"; }

// The next character that is not JSON white space, not consumed; nullopt at the end of the file.
Result<std::optional<char>> next_json_token(StreamInput& in) {
  for (;;) {
    H2R_TRY(in.want(1));
    const std::string_view a = in.available();
    if (a.empty()) return std::optional<char>{};
    std::size_t i = 0;
    while (i < a.size() && is_json_space(a[i])) ++i;
    in.consume(i);
    if (i < a.size()) return std::optional<char>{a[i]};
  }
}

// One element of the top-level array into `element`, up to the ',' or ']' after it (consumed and
// returned); 0 when the file is not a plain array of elements (the whole-file reader says why).
Result<char> next_json_element(StreamInput& in, std::string& element) {
  element.clear();
  int depth = 0; // inside the element; the array itself is one level more
  bool in_string = false;
  bool escape = false;
  for (;;) {
    H2R_TRY(in.want(1));
    const std::string_view a = in.available();
    if (a.empty()) return '\0';
    char end = '\0';
    std::size_t i = 0;
    for (; i < a.size() && end == '\0'; ++i) {
      const char c = a[i];
      if (in_string) {
        if (escape) escape = false;
        else if (c == '\\') escape = true;
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        if (++depth + 1 > k_max_json_depth) return '\0';
      } else if (c == ']' || c == '}') {
        if (depth == 0) {
          if (c == '}') return '\0';
          end = c;
        } else {
          --depth;
        }
      } else if (c == ',' && depth == 0) {
        end = c;
      }
    }
    element.append(a.data(), end == '\0' ? i : i - 1);
    in.consume(i);
    if (element.size() > k_max_stream_record_bytes) return '\0';
    if (end != '\0') return end;
  }
}

// A JSON file that is an array of event objects: element by element. Anything else (one object,
// blank, a syntax error) is read whole.
Result<void> stream_json(StreamInput& in, ChunkOut& out, StreamRead& read, const DateReading& dates) {
  auto whole = [&]() -> Result<void> {
    read.read_whole = true;
    return {};
  };
  auto first = H2R_TRY(next_json_token(in));
  if (!first || *first != '[') return whole();
  in.consume(1);
  auto next = H2R_TRY(next_json_token(in));
  if (next && *next == ']') {
    in.consume(1);
  } else {
    std::string element;
    int record = 0;
    for (;;) {
      const char end = H2R_TRY(next_json_element(in, element));
      if (end == '\0') return whole();
      const auto from = element.find_first_not_of(" \t\r\n");
      if (from == std::string::npos || !clean_text(element)) return whole();
      if (static_cast<std::size_t>(++record) > k_max_records_per_file) return whole();
      bool read_whole = false;
      auto event = read_json_element(std::string_view(element).substr(from), record, read.problems, read_whole, dates);
      if (read_whole || out.too_many_problems()) return whole();
      if (event) H2R_TRY(out.push(std::move(*event)));
      if (end == ']') break;
    }
  }
  if (H2R_TRY(next_json_token(in))) return whole(); // text after the array
  return {};
}

// NDJSON: line by line, as parse_ndjson_events reads them.
Result<void> stream_ndjson(StreamInput& in, ChunkOut& out, StreamRead& read, const DateReading& dates) {
  int line = 0;
  int record = 0;
  bool too_many_records = false;
  for (;;) {
    bool too_long = false;
    const auto text = H2R_TRY(in.next_line(k_max_stream_record_bytes, too_long));
    if (too_long) break;
    if (!text) return {};
    ++line;
    if (!clean_text(*text)) break;
    // Past the record limit only the encoding is checked (the whole-file reader checks it first).
    if (too_many_records || text->find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (static_cast<std::size_t>(++record) > k_max_records_per_file) {
      add_problem(read.problems, {0, 0, "", more_than_records()});
      too_many_records = true;
      continue;
    }
    if (auto event = read_ndjson_record(*text, record, line, read.problems, dates)) H2R_TRY(out.push(std::move(*event)));
    if (out.too_many_problems()) break;
  }
  read.read_whole = true;
  return {};
}

// What the whole-file reader checks of the bytes before it parses them, a block at a time: UTF-8 and
// NUL bytes, blank, nesting (find_excess_json_depth's way of counting).
class ByteChecks {
public:
  void feed(std::string_view block) {
    if (m_unclean) return;
    std::string_view text = block;
    std::string joined;
    if (!m_carry.empty()) {
      joined = m_carry + std::string(block);
      text = joined;
    }
    // A sequence cut by the block's end waits for the next block.
    std::size_t complete = text.size();
    for (std::size_t back = 1; back <= 3 && back <= text.size(); ++back) {
      const auto c = static_cast<unsigned char>(text[text.size() - back]);
      if ((c & 0xC0) == 0x80) continue;    // a continuation byte: look further back
      const std::size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (want > back) complete = text.size() - back;
      break;
    }
    const std::string_view whole = text.substr(0, complete);
    if (!clean_text(whole)) m_unclean = true;
    m_carry = std::string(text.substr(complete));
    for (const char c : whole) count(c);
  }
  // At the end of the file.
  bool decides_whole() const { return m_unclean || !m_carry.empty() || m_blank || m_too_deep; }

private:
  void count(char c) {
    if (m_skip) {
      m_skip = false;
      return;
    }
    if (m_blank && !is_json_space(c)) m_blank = false;
    if (m_in_string) {
      if (c == '\\') m_skip = true;
      else if (c == '"') m_in_string = false;
      return;
    }
    if (c == '"') m_in_string = true;
    else if ((c == '[' || c == '{') && ++m_depth > k_max_json_depth) m_too_deep = true;
    else if ((c == ']' || c == '}') && m_depth > 0) --m_depth;
  }

  std::string m_carry;
  bool m_unclean = false;
  bool m_blank = true;
  bool m_too_deep = false;
  bool m_in_string = false;
  bool m_skip = false;
  int m_depth = 0;
};

// The file through a std::streambuf (what nlohmann's SAX parser reads), every block also fed to the
// byte checks. A byte-order mark is skipped, as parse_event_file does; UTF-16 ends the input at once.
class CheckedBuf : public std::streambuf {
public:
  CheckedBuf(const ByteReader& read, ByteChecks& checks) : m_read(read), m_checks(checks), m_block(k_block_bytes) {}

  bool utf16() const { return m_utf16; }
  const std::optional<Error>& error() const { return m_error; }
  // Reads the rest of the file through the checks (the parser may stop at a syntax error).
  void drain() {
    while (!m_utf16 && next_block()) {}
  }

protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (m_utf16 || !next_block()) return traits_type::eof();
    return traits_type::to_int_type(*gptr());
  }

private:
  bool next_block() {
    if (m_eof || m_error) return false;
    std::size_t have = 0;
    // The first block: at least 3 bytes (a byte-order mark) unless the file is shorter.
    do {
      auto n = m_read(m_block.data() + have, m_block.size() - have);
      if (!n) {
        m_error = std::move(n).error();
        return false;
      }
      if (*n == 0) m_eof = true;
      have += *n;
    } while (m_first && have < 3 && !m_eof);
    std::size_t from = 0;
    if (m_first) {
      m_first = false;
      const std::string_view head(m_block.data(), have);
      if (utf16_mark(head)) {
        m_utf16 = true;
        return false;
      }
      if (head.substr(0, 3) == "\xEF\xBB\xBF") from = 3;
    }
    if (have == from) return next_block(); // the mark alone, or the end (m_eof)
    m_checks.feed(std::string_view(m_block.data() + from, have - from));
    setg(m_block.data() + from, m_block.data() + from, m_block.data() + have);
    return true;
  }

  const ByteReader& m_read;
  ByteChecks& m_checks;
  std::vector<char> m_block;
  std::optional<Error> m_error;
  bool m_first = true;
  bool m_eof = false;
  bool m_utf16 = false;
};

void sort_problems(std::vector<FileProblem>& problems) {
  // File-level problems first, then by record; a "too many problems" note stays last.
  const bool truncated = problems.size() > k_max_problems_listed;
  auto end = truncated ? problems.end() - 1 : problems.end();
  std::stable_sort(problems.begin(), end,
                   [](const FileProblem& a, const FileProblem& b) { return a.record < b.record; });
}

} // namespace

Result<void> StreamInput::want(std::size_t bytes) {
  while (m_buf.size() - m_pos < bytes && !m_eof) H2R_TRY(read_more());
  return {};
}

Result<bool> StreamInput::read_more() {
  if (m_eof) return false;
  if (m_pos > 0) {
    m_buf.erase(0, m_pos);
    m_pos = 0;
  }
  const std::size_t old = m_buf.size();
  m_buf.resize(old + k_block_bytes);
  auto n = m_read(m_buf.data() + old, k_block_bytes);
  if (!n) {
    m_buf.resize(old);
    return unexpected(std::move(n).error());
  }
  m_buf.resize(old + std::min(*n, k_block_bytes));
  if (*n == 0) m_eof = true;
  return *n != 0;
}

Result<std::optional<std::string_view>> StreamInput::next_line(std::size_t max_bytes, bool& too_long) {
  std::size_t scanned = 0; // bytes after m_pos already searched for '\n'
  for (;;) {
    const auto nl = m_buf.find('\n', m_pos + scanned);
    if (nl != std::string::npos) {
      const std::string_view line(m_buf.data() + m_pos, nl - m_pos);
      m_pos = nl + 1;
      if (line.size() > max_bytes) too_long = true;
      return too_long ? std::nullopt : std::optional<std::string_view>(line);
    }
    scanned = m_buf.size() - m_pos;
    if (scanned > max_bytes) {
      too_long = true;
      return std::optional<std::string_view>{};
    }
    if (!H2R_TRY(read_more())) {
      if (m_pos >= m_buf.size()) return std::optional<std::string_view>{};
      const std::string_view line(m_buf.data() + m_pos, m_buf.size() - m_pos);
      m_pos = m_buf.size();
      return std::optional<std::string_view>(line);
    }
  }
}

Result<void> ChunkOut::push(HrEvent&& event) {
  m_events.push_back(std::move(event));
  if (m_events.size() >= m_chunk_events) return flush();
  return {};
}

Result<void> ChunkOut::flush() {
  if (m_events.empty()) return {};
  m_read.events += m_events.size();
  m_found.clear();
  H2R_TRY(m_sink(m_events, m_found));
  for (auto& p : m_found) add_problem(m_read.problems, std::move(p));
  m_events.clear();
  return {};
}

bool clean_text(std::string_view text) {
  return text.find('\0') == std::string_view::npos && !find_invalid_utf8(text);
}

} // namespace hr_detail

using namespace hr_detail;

Result<StreamRead> read_event_stream(FileFormat format, const ByteReader& read, const ChunkSink& sink,
                                     std::size_t chunk_events, const DateReading& dates) {
  StreamRead result;
  try {
    StreamInput in(read);
    ChunkOut out(sink, chunk_events, result);
    H2R_TRY(in.want(3));
    const std::string_view head = in.available();
    if (utf16_mark(head)) {
      result.read_whole = true; // decoded whole, as parse_event_file does
      return result;
    }
    if (head.substr(0, 3) == "\xEF\xBB\xBF") in.consume(3);
    switch (format) {
    case FileFormat::json: H2R_TRY(stream_json(in, out, result, dates)); break;
    case FileFormat::ndjson: H2R_TRY(stream_ndjson(in, out, result, dates)); break;
    case FileFormat::csv: H2R_TRY(stream_csv(in, out, result, dates)); break;
    }
    if (!result.read_whole) H2R_TRY(out.flush());
    if (result.read_whole || out.too_many_problems()) {
      result.read_whole = true;
      result.problems.clear();
      result.notes.clear();
      return result;
    }
    sort_problems(result.problems);
    return result;
  } catch (const std::bad_alloc&) {
    return fail(ErrorKind::transient, "not enough memory to read the file");
  } catch (const std::exception& e) {
    return fail(ErrorKind::transient, std::string("reading the file threw: ") + e.what());
  }
}

Result<std::optional<std::vector<FileProblem>>> scan_json_file(const ByteReader& read) {
  using Known = std::optional<std::vector<FileProblem>>;
  try {
    ByteChecks checks;
    CheckedBuf buf(read, checks);
    std::istream in(&buf);
    JsonScan scan = scan_json_stream(in);
    buf.drain(); // what the whole-file reader checks first may lie after a syntax error
    if (buf.error()) return unexpected(*buf.error());
    if (buf.utf16() || checks.decides_whole() || scan.too_deep) return Known{};
    if (!scan.syntax_error) {
      if (!scan.top_array || scan.top_elements <= k_max_records_per_file) return Known{};
      add_problem(scan.problems, {0, 0, "", more_than_records()});
    }
    sort_problems(scan.problems);
    return Known{std::move(scan.problems)};
  } catch (const std::bad_alloc&) {
    return fail(ErrorKind::transient, "not enough memory to read the file");
  } catch (const std::exception& e) {
    return fail(ErrorKind::transient, std::string("reading the file threw: ") + e.what());
  }
}

FileProblem duplicate_event_id_problem(const HrEvent& repeat, int first_record) {
  return {repeat.record, repeat.line, "event_id",
          "duplicate event_id " + quote_for_report(repeat.event_id, k_max_event_id_bytes) + " (first in record " +
              std::to_string(first_record) + ")"};
}

} // namespace h2r
