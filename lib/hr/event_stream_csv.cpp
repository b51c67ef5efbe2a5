// The streaming reader's CSV part: record by record, with parse_csv_events's separator sniffing,
// header matching, blank rows and notes.
#include "hr/csv.hpp"
#include "hr/csv_header.hpp"
#include "hr/event_stream_detail.hpp"
#include "hr/text_checks.hpp"

#include <algorithm>

namespace h2r::hr_detail {
namespace {

// Line breaks as tokenize_csv counts them: CRLF, LF or a lone CR.
int count_line_breaks(std::string_view s) {
  int n = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n'))) ++n;
  return n;
}

// True when no separator makes a cell of `text` hold something: it cannot be the header row.
bool blank_for_every_separator(std::string_view text) {
  return text.find_first_not_of(" \t,;\"\r\n") == std::string_view::npos;
}

class CsvStream {
public:
  CsvStream(ChunkOut& out, StreamRead& read, const DateReading& dates) : m_out(out), m_read(read), m_dates(dates) {}

  // One piece of the file: whole lines whose quotes are balanced, starting on `first_line`. False
  // when the file must be read whole.
  Result<bool> take(const std::string& segment, int first_line) {
    if (!m_header) {
      m_prefix += segment;
      if (blank_for_every_separator(segment)) return m_prefix.size() <= k_max_stream_record_bytes;
      // The header is in the prefix: the separator is sniffed from it as from the whole file.
      m_delimiter = sniff_csv_delimiter(m_prefix);
      CsvTable table = tokenize_csv(m_prefix, k_max_records_per_file + 1, m_delimiter);
      if (!table.error.empty() || table.rows.size() > k_max_records_per_file + 1) return false;
      m_rows = table.rows.size();
      const std::size_t header_row = header_row_index(table);
      std::vector<FileProblem> header_problems;
      m_header = read_csv_header(table.rows[header_row].cells, table.rows[header_row].line, m_delimiter,
                                 header_problems);
      if (!header_problems.empty()) return false;
      for (std::size_t r = header_row + 1; r < table.rows.size(); ++r) H2R_TRY(data_row(table.rows[r]));
      m_prefix.clear();
      m_prefix.shrink_to_fit();
      return true;
    }
    CsvTable table = tokenize_csv(segment, k_max_records_per_file + 1, m_delimiter);
    if (!table.error.empty()) return false;
    m_rows += table.rows.size();
    if (m_rows > k_max_records_per_file + 1) {
      m_read.problems.clear(); // as parse_csv_events: this one problem only
      add_problem(m_read.problems, {0, 0, "", "more than " + std::to_string(k_max_records_per_file) + " events"});
      m_too_many_rows = true;
      return true;
    }
    for (auto& row : table.rows) {
      row.line += first_line - 1;
      H2R_TRY(data_row(row));
    }
    return true;
  }

  bool too_many_rows() const { return m_too_many_rows; }
  bool has_header() const { return m_header.has_value(); }

  void finish() {
    if (m_rows > 1) m_read.notes = csv_notes(m_delimiter, *m_header, m_blank_rows); // none for a header alone
  }

private:
  Result<void> data_row(const CsvRow& row) {
    if (is_blank_row(row.cells)) {
      ++m_blank_rows;
      return {};
    }
    if (auto event = csv_row_event(row, m_header->fields, ++m_record, m_read.problems, m_dates))
      H2R_TRY(m_out.push(std::move(*event)));
    return {};
  }

  ChunkOut& m_out;
  StreamRead& m_read;
  const DateReading& m_dates;
  std::string m_prefix; // the lines up to and including the header row
  char m_delimiter = ',';
  std::optional<CsvHeader> m_header;
  std::size_t m_rows = 0; // rows tokenized, the header and blank rows included
  std::size_t m_blank_rows = 0;
  int m_record = 0;
  bool m_too_many_rows = false;
};

} // namespace

Result<void> stream_csv(StreamInput& in, ChunkOut& out, StreamRead& read, const DateReading& dates) {
  CsvStream csv(out, read, dates);
  std::string segment;   // lines up to the end of a record: an even number of quotes
  std::size_t quotes = 0;
  int next_line = 1;     // the line `segment` starts on
  for (;;) {
    bool too_long = false;
    const auto line = H2R_TRY(in.next_line(k_max_stream_record_bytes, too_long));
    if (too_long) break;
    if (!line) {
      if (!segment.empty() || !csv.has_header()) break; // an open quote, or no header: read whole
      if (!csv.too_many_rows()) csv.finish();
      return {};
    }
    if (csv.too_many_rows()) { // only the encoding is checked now (the whole-file reader checks it first)
      if (!clean_text(*line)) break;
      continue;
    }
    segment.append(*line);
    segment += '\n';
    quotes += static_cast<std::size_t>(std::count(line->begin(), line->end(), '"'));
    if (segment.size() > k_max_stream_record_bytes) break;
    if (quotes % 2 == 1) continue; // a quoted field goes on in the next line
    if (!clean_text(segment)) break;
    const int first_line = next_line;
    next_line += count_line_breaks(segment);
    if (!H2R_TRY(csv.take(segment, first_line)) || out.too_many_problems()) break;
    segment.clear();
    quotes = 0;
  }
  read.read_whole = true;
  return {};
}

} // namespace h2r::hr_detail
