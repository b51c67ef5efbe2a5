#include "core/logging.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace h2r {
namespace {

// One JSON object a line: {"time","level","event","msg"}; `event` is the message's first word.
class JsonLineSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text(msg.payload.data(), msg.payload.size());
    auto space = text.find(' ');
    nlohmann::json line = {
        {"time", std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count()},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(), spdlog::level::to_string_view(msg.level).size())},
        {"event", text.substr(0, space)},
        {"msg", text}};
    std::string out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

} // namespace

void init_logging(const std::string& level, const std::string& format) {
  std::shared_ptr<spdlog::logger> logger;
  if (format == "json") {
    logger = std::make_shared<spdlog::logger>("h2r", std::make_shared<JsonLineSink>());
  } else {
    logger = std::make_shared<spdlog::logger>("h2r", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "%l %v" : "%Y-%m-%dT%H:%M:%S.%e %l %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

} // namespace h2r
