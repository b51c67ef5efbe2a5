#include "hr/readers.hpp"

#include "hr/csv.hpp"
#include "hr/encoding.hpp"
#include "hr/event_validation.hpp"
#include "hr/json_events.hpp"
#include "hr/text_checks.hpp"

#include <algorithm>
#include <cctype>
#include <new>

namespace h2r {

using namespace hr_detail;

std::string FileProblem::to_string() const {
  std::string out;
  if (record > 0) out = "record " + std::to_string(record);
  if (line > 0) out += record > 0 ? " (line " + std::to_string(line) + ")" : "line " + std::to_string(line);
  if (!field.empty()) {
    if (!out.empty()) out += ": ";
    out += "field " + quote_for_report(field, k_max_field_name_bytes);
  }
  if (!out.empty()) out += ": ";
  return out + message;
}

std::optional<FileFormat> format_for_name(std::string_view file_name) {
  const auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string ext(file_name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == "json") return FileFormat::json;
  if (ext == "ndjson" || ext == "jsonl") return FileFormat::ndjson;
  if (ext == "csv") return FileFormat::csv;
  return std::nullopt;
}

std::string_view accepted_extensions() { return "accepted: .json, .ndjson, .jsonl, .csv"; }

namespace {

ParsedFile parse_checked(FileFormat format, std::string_view content, const DateReading& dates) {
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  std::size_t skipped = 0; // byte numbers in reports count from the start of the file
  if (content.substr(0, bom.size()) == bom) {
    content.remove_prefix(bom.size());
    skipped = bom.size();
  }
  ParsedFile out;
  if (content.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    // An export with no changes: NDJSON without lines, CSV without even a header. A .json file
    // must hold JSON; its "no changes" is [].
    if (format == FileFormat::json)
      out.problems.push_back({0, 0, "", "file is empty (not JSON; an export with no changes is [])"});
    return out;
  }
  if (auto bad = find_invalid_utf8(content)) {
    out.problems.push_back(invalid_utf8_problem(format, content, *bad, skipped));
    return out;
  }
  if (auto nul = content.find('\0'); nul != std::string_view::npos) {
    const char* what = !looks_like_utf16(content)    ? "contains a NUL byte (not a text file)"
                       : format == FileFormat::csv ? "this file is UTF-16 without a byte-order mark; save as CSV UTF-8"
                                                   : "this file is UTF-16 without a byte-order mark; save it as UTF-8";
    out.problems.push_back({0, line_at(content, nul), "", what});
    return out;
  }
  switch (format) {
  case FileFormat::json: out = parse_json_events(content, dates); break;
  case FileFormat::ndjson: out = parse_ndjson_events(content, dates); break;
  case FileFormat::csv: out = parse_csv_events(content, dates); break;
  }
  check_duplicate_event_ids(out.events, out.problems);
  if (!out.problems.empty()) {
    // File-level problems first, then by record; a "too many problems" note stays last.
    const bool truncated = out.problems.size() > k_max_problems_listed;
    auto end = truncated ? out.problems.end() - 1 : out.problems.end();
    std::stable_sort(out.problems.begin(), end,
                     [](const FileProblem& a, const FileProblem& b) { return a.record < b.record; });
    out.events.clear();
  }
  return out;
}

} // namespace

ParsedFile parse_event_file(FileFormat format, std::string_view content, const DateReading& dates) {
  try {
    // UTF-16 with a byte-order mark (Excel's "Unicode Text") is read as its UTF-8 equivalent.
    auto utf8 = decode_utf16_with_bom(content);
    if (utf8 && !*utf8) return ParsedFile{{}, {utf8->error()}, {}};
    ParsedFile out = parse_checked(format, utf8 ? std::string_view(**utf8) : content, dates);
    if (utf8 && out.problems.empty())
      out.notes.insert(out.notes.begin(), "read as UTF-16 (it starts with a UTF-16 byte-order mark)");
    return out;
  } catch (const std::bad_alloc&) {
    ParsedFile out;
    out.problems.push_back({0, 0, "", "not enough memory to read the file"});
    return out;
  } catch (const std::exception& e) {
    ParsedFile out;
    out.problems.push_back({0, 0, "", std::string("cannot be read: ") + e.what()});
    return out;
  }
}

} // namespace h2r
