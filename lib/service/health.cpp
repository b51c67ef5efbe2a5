#include "service/health.hpp"

#include <fmt/format.h>

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

} // namespace h2r
