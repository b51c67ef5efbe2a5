#include "core/logging.hpp"

#include <date/date.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace h2r {
namespace {

// "2026-12-01T14:00:00.123Z": RFC 3339 in UTC with milliseconds, the zone always written.
std::string utc_millis(std::chrono::system_clock::time_point t) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", std::chrono::time_point_cast<std::chrono::milliseconds>(t));
}

// One JSON object a line: {"time","level","event","msg"}; `event` is the message's first word and
// `time` is utc_millis().
class JsonLineSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text(msg.payload.data(), msg.payload.size());
    auto space = text.find(' ');
    nlohmann::json line = {
        {"time", utc_millis(msg.time)},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(), spdlog::level::to_string_view(msg.level).size())},
        {"event", text.substr(0, space)},
        {"msg", text}};
    std::string out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

// Under systemd ($JOURNAL_STREAM set and not empty) journald stamps each line itself.
bool journald() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  return stream != nullptr && *stream != '\0';
}

} // namespace

void init_logging(const std::string& level, const std::string& format) {
  std::shared_ptr<spdlog::logger> logger;
  if (format == "json") {
    logger = std::make_shared<spdlog::logger>("h2r", std::make_shared<JsonLineSink>());
  } else {
    logger = std::make_shared<spdlog::logger>("h2r", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // UTC with its `Z`, like every time h2r prints: a log line means the same on any machine.
    logger->set_pattern(journald() ? "%l %v" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                        spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

} // namespace h2r
