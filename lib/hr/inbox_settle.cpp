// Inbox: taking files found by a rescan only once they have settled (see inbox.hpp).
#include "core/read_lease.hpp"
#include "core/text.hpp"
#include "hr/inbox.hpp"
#include "hr/readers.hpp"

#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <set>

namespace h2r {

bool Inbox::settled(const std::string& name) {
  struct stat st {};
  const std::string path = m_options.dir + "/" + name;
  if (m_options.settle <= std::chrono::milliseconds::zero() || !format_for_name(name) ||
      ::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    m_settling.erase(name); // gone, not a regular file or not an event file: process() decides at once
    return true;
  }
  const Look look = look_of(st);
  const SystemTime now = m_clock.now();
  auto it = m_settling.find(name);
  // A file last written at least `settle` ago (by the real clock: mtime is the file system's) has
  // already been unchanged that long: a restarted daemon takes what was left in the inbox at once.
  if (it == m_settling.end() && written_at_least_ago(st, m_options.settle)) return true;
  if (it == m_settling.end() || it->second.look != look) {
    spdlog::debug("inbox.settling file=\"{}\" bytes={}", escape_for_log(name), look.size);
    m_settling[name] = Settling{look, now};
    return false;
  }
  if (now < it->second.since) it->second.since = now; // the wall clock went back: start again
  if (now - it->second.since < m_options.settle) return false;
  m_settling.erase(it);
  return true;
}

void Inbox::note_changed(const std::string& name, const Look& look) {
  m_settling[name] = Settling{look, m_clock.now()};
}

ScanReport Inbox::rescan() {
  const auto names = list_names();
  const std::set<std::string> present(names.begin(), names.end());
  for (auto it = m_settling.begin(); it != m_settling.end();)
    it = present.count(it->first) ? std::next(it) : m_settling.erase(it);
  return take_if_settled(names);
}

ScanReport Inbox::take_settled() {
  std::vector<std::string> names;
  for (const auto& [name, _] : m_settling) names.push_back(name);
  return take_if_settled(names);
}

ScanReport Inbox::take_if_settled(const std::vector<std::string>& names) {
  ScanReport report;
  for (const auto& name : names) {
    if (settled(name))
      count(report, process(name, true));
    else
      ++report.settling;
  }
  return report;
}

} // namespace h2r
