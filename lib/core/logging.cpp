#include "core/logging.hpp"

#include "core/mutex.hpp"

#include <date/date.h>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
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

// Text or JSON lines, switched in place by set_log_settings(): one logger for the process's life.
class FormatSwitchSink final : public spdlog::sinks::sink {
public:
  FormatSwitchSink() : m_text(std::make_shared<spdlog::sinks::stderr_sink_mt>()), m_json(std::make_shared<JsonLineSink>()) {
    // UTC with its `Z`, like every time h2r prints: a log line means the same on any machine.
    m_text->set_formatter(std::make_unique<spdlog::pattern_formatter>(journald() ? "%l %v" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                                                                      spdlog::pattern_time_type::utc));
  }
  void use_json(bool json) { m_use_json = json; }
  void log(const spdlog::details::log_msg& msg) override { (m_use_json ? m_json : m_text)->log(msg); }
  void flush() override {
    m_text->flush();
    m_json->flush();
  }
  void set_pattern(const std::string&) override {}   // the formats are fixed
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

private:
  std::shared_ptr<spdlog::sinks::sink> m_text;
  std::shared_ptr<spdlog::sinks::sink> m_json;
  std::atomic<bool> m_use_json{false};
};

Mutex g_sink_mutex;
std::shared_ptr<FormatSwitchSink> g_sink H2R_GUARDED_BY(g_sink_mutex);   // the one init_logging() made

} // namespace

void set_log_settings(const std::string& level, const std::string& format) {
  spdlog::set_level(spdlog::level::from_str(level));
  MutexLock lock(g_sink_mutex);
  if (g_sink) g_sink->use_json(format == "json");
}

void init_logging(const std::string& level, const std::string& format) {
  auto sink = std::make_shared<FormatSwitchSink>();
  sink->use_json(format == "json");
  auto logger = std::make_shared<spdlog::logger>("h2r", sink);
  {
    MutexLock lock(g_sink_mutex);
    g_sink = sink;
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

} // namespace h2r
