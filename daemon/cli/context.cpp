#include "daemon/cli/context.hpp"

#include "core/logging.hpp"
#include "core/time.hpp"
#include "store/sqlite_store.hpp"

#include <iostream>

namespace h2r::cli {

void print_error(const std::string& message) { std::cerr << "h2rd: " << message << "\n"; }

void print_json(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

std::string time_text(long long unix_ms) { return unix_ms == 0 ? "-" : format_utc(from_unix_ms(unix_ms)); }

std::string json_text(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

nlohmann::json time_json(long long unix_ms) {
  return unix_ms == 0 ? nlohmann::json() : nlohmann::json(format_utc(from_unix_ms(unix_ms)));
}

std::optional<Context> open_context(const std::string& config_path, int& exit_code) {
  auto config = load_config(config_path);
  if (!config) {
    for (const auto& d : config.error()) std::cerr << d.to_string() << "\n";
    exit_code = k_exit_config;
    return std::nullopt;
  }
  Context context;
  context.config = std::move(*config);
  init_logging(context.config.log_level, context.config.log_format);
  auto key = load_or_create_key(context.config.secret_key_file);
  if (!key) {
    print_error(key.error().message);
    exit_code = k_exit_config;
    return std::nullopt;
  }
  context.box = std::make_unique<SecretBox>(std::move(*key));
  auto store = open_sqlite_store(context.config.database);
  if (!store) {
    print_error(store.error().message);
    exit_code = k_exit_failed;
    return std::nullopt;
  }
  context.store = std::move(*store);
  return context;
}

RulesPtr load_rules_or_report(const Context& context, int& exit_code) {
  auto rules = load_rules_file(context.config.rules);
  if (rules) return *rules;
  for (const auto& d : rules.error()) std::cerr << d.to_string() << "\n";
  exit_code = k_exit_config;
  return nullptr;
}

} // namespace h2r::cli
