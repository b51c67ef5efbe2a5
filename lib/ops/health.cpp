#include "ops/health.hpp"

#include "core/time.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace h2r {

std::chrono::milliseconds Heartbeat::age(TimePoint now) const {
  const TimePoint last{TimePoint::duration(m_last_ns.load())};
  if (now <= last) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - last);
}

HealthReport evaluate_health(std::chrono::milliseconds heartbeat_age, std::chrono::milliseconds max_age,
                             const Result<void>& database) {
  HealthReport report;
  if (heartbeat_age > max_age) {
    report.ok = false;
    report.reason = fmt::format("scheduler heartbeat is {:.1f} s old (limit {:.0f} s): the scheduler is stuck",
                                std::chrono::duration<double>(heartbeat_age).count(),
                                std::chrono::duration<double>(max_age).count());
  }
  if (!database) {
    if (!report.ok) report.reason += "; ";
    report.ok = false;
    report.reason += "database does not answer: " + database.error().message;
  }
  if (report.ok) report.reason = "ok";
  return report;
}

DatabaseFileCheck::DatabaseFileCheck(std::string path) : m_path(std::move(path)) {
  struct stat st {};
  if (::stat(m_path.c_str(), &st) == 0) {
    m_known = true;
    m_dev = static_cast<std::uint64_t>(st.st_dev);
    m_ino = static_cast<std::uint64_t>(st.st_ino);
  }
}

std::optional<std::string> DatabaseFileCheck::operator()() const {
  if (!m_known) return std::nullopt;   // not a file (":memory:") or not there when h2rd opened it
  struct stat st {};
  if (::stat(m_path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT)
      return "database file " + m_path + " was deleted: the daemon writes into a file nobody can read; restore it "
             "and restart h2rd";
    return "database file " + m_path + " cannot be examined: " + std::strerror(err);
  }
  if (m_known && (static_cast<std::uint64_t>(st.st_dev) != m_dev || static_cast<std::uint64_t>(st.st_ino) != m_ino))
    return "database file " + m_path + " was replaced on disk since h2rd opened it; restart h2rd";
  if (::access(m_path.c_str(), W_OK) != 0)
    return "database file " + m_path + " is not writable: " + std::strerror(errno);
  const std::string folder = std::filesystem::path(m_path).parent_path().string();
  struct statvfs fs {};
  if (::statvfs(folder.empty() ? "." : folder.c_str(), &fs) == 0) {
    const auto free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
    if (free_bytes < k_min_free_bytes)
      return fmt::format("the file system of {} is full ({} bytes free): writes to the database fail", m_path, free_bytes);
  }
  return std::nullopt;
}

StoreWritesCheck::StoreWritesCheck(std::function<long long()> failing_since_ms)
    : m_failing_since_ms(std::move(failing_since_ms)) {}

std::optional<std::string> StoreWritesCheck::operator()() const {
  const long long since = m_failing_since_ms ? m_failing_since_ms() : 0;
  if (since == 0) return std::nullopt;
  return "database writes are failing since " + format_utc(from_unix_ms(since)) +
         " (store.write_failed in the log)";
}

} // namespace h2r
