#include "hr/rejected_files.hpp"

#include <filesystem>
#include <map>
#include <string_view>
#include <system_error>

namespace h2r {

Result<RejectedFiles> rejected_files(const std::string& inbox_dir) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(inbox_dir) / "rejected";
  RejectedFiles out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  if (ec) return fail(ErrorKind::permanent, "cannot read " + dir.string() + ": " + ec.message());
  // A rename keeps a file's own time: when it was rejected is the time of its NAME.error.txt.
  constexpr std::string_view k_report = ".error.txt";
  std::map<std::string, fs::file_time_type> files, reports;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) || entry_ec) continue;
    const auto when = it->last_write_time(entry_ec);
    if (entry_ec) continue;   // gone meanwhile (purged)
    if (name.ends_with(k_report))
      reports[name.substr(0, name.size() - k_report.size())] = when;
    else
      files[name] = when;
  }
  if (ec) return fail(ErrorKind::permanent, "cannot read " + dir.string() + ": " + ec.message());
  fs::file_time_type newest_time{};
  for (const auto& [name, file_time] : files) {
    auto report = reports.find(name);
    const auto when = report == reports.end() ? file_time : report->second;
    ++out.count;
    if (out.newest.empty() || when >= newest_time) {
      newest_time = when;
      out.newest = name;
    }
  }
  return out;
}

} // namespace h2r
