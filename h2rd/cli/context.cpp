#include "h2rd/cli/context.hpp"

#include "config/config_lenient.hpp"
#include "core/logging.hpp"
#include "core/text.hpp"
#include "core/utf8.hpp"
#include "core/time.hpp"
#include "core/db_url.hpp"
#include "engine/engine_config.hpp"
#include "store/open_store.hpp"

#include <filesystem>
#include <iostream>
#include <limits>

namespace h2r::cli {

void print_error(const std::string& message) { std::cerr << "h2rd: " << message << "\n"; }

namespace {

// `value` with every string (and key) that is not valid UTF-8 — a source file name, say — escaped as
// in a log line (\xNN for the bad bytes), so dump() never throws and no raw byte reaches the terminal.
nlohmann::json printable(const nlohmann::json& value) {
  auto text = [](const std::string& s) {
    return is_valid_utf8(s) ? s : escape_for_log(s, std::numeric_limits<std::size_t>::max(), "");
  };
  if (value.is_string()) return text(value.get_ref<const std::string&>());
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(printable(item));
    return out;
  }
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) out[text(key)] = printable(item);
    return out;
  }
  return value;
}

} // namespace

void print_json(const nlohmann::json& value) { std::cout << printable(value).dump(2) << "\n"; }

std::string json_text(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

namespace {

// What to do when the key file is gone but `sealed` connections hold secrets sealed with it.
std::string lost_key_help(const Config& config, const std::vector<std::string>& sealed) {
  std::string names;
  for (const auto& n : sealed) names += (names.empty() ? "" : ", ") + n;
  const std::string h2rd = "h2rd -c " + config.path;
  return "the key file " + config.secret_key_file + " is missing, but the database " + redact_database(config.database) +
         " holds client secrets sealed with it (connections: " + names +
         "); a new key could not open them, so none is made. To recover:\n"
         "  1. restore the key file from your backup to " + config.secret_key_file +
         " (owner h2r, mode 0600) and start again; or, if it is lost for good,\n"
         "  2. give each connection its client secret again, which makes a new key file and re-seals it:\n" +
         "       " + h2rd + " connection update " + sealed.front() + " --client-secret-stdin < SECRET_FILE\n" +
         (sealed.size() > 1 ? "     and the same for " + std::to_string(sealed.size() - 1) + " more (" + names + ").\n"
                            : std::string()) +
         "  Do not copy a database to another machine without its key file.";
}

} // namespace

std::optional<Context> open_context_without_key(const std::string& config_path, int& exit_code) {
  auto config = load_config(config_path);
  if (!config) {
    for (const auto& d : config.error()) std::cerr << d.to_string() << "\n";
    exit_code = k_exit_config;
    return std::nullopt;
  }
  Context context;
  context.config = std::move(*config);
  init_logging(context.config.log_level, context.config.log_format);
  auto store = open_store(context.config.database, context.config.database_password_file,
                          context.config.database_cache);
  if (!store) {
    print_error(store.error().message);
    exit_code = k_exit_failed;
    return std::nullopt;
  }
  context.store = std::move(*store);
  return context;
}

std::optional<Context> open_context(const std::string& config_path, int& exit_code, NewKey new_key) {
  // The database first: whether a missing key may be created depends on what it holds.
  auto opened = open_context_without_key(config_path, exit_code);
  if (!opened) return std::nullopt;
  Context context = std::move(*opened);
  auto connections = context.store->list_connections();
  if (!connections) {
    print_error(connections.error().message);
    exit_code = k_exit_failed;
    return std::nullopt;
  }
  std::vector<std::string> sealed;
  for (const auto& c : *connections)
    if (!c.secret_blob.empty()) sealed.push_back(c.name);
  const MissingKey missing = sealed.empty() || new_key == NewKey::allowed ? MissingKey::create : MissingKey::refuse;
  auto key = load_or_create_key(context.config.secret_key_file, missing);
  if (!key) {
    print_error(key.error().reason == ErrorReason::key_missing ? lost_key_help(context.config, sealed) : key.error().message);
    exit_code = k_exit_config;
    return std::nullopt;
  }
  context.box = std::make_unique<SecretBox>(std::move(*key));
  return context;
}

std::optional<Context> open_status_context(const std::string& config_path, int& exit_code) {
  Diagnostics problems;
  auto config = load_config_lenient(config_path, problems);
  if (!config || (has_errors(problems) && !is_database_url(config->database) && !std::filesystem::exists(config->database))) {
    for (const auto& d : problems) std::cerr << d.to_string() << "\n";
    exit_code = k_exit_config;
    return std::nullopt;
  }
  if (!has_errors(problems)) return open_context_without_key(config_path, exit_code);
  for (const auto& d : problems) std::cerr << d.to_string() << "\n";
  std::cerr << "h2rd: warning: " << config->path << " has errors (above); a running daemon keeps the settings "
            << "it runs with; this status reads " << redact_database(config->database) << "\n";
  Context context;
  context.config = std::move(*config);
  init_logging(context.config.log_level, context.config.log_format);
  auto store = open_store(context.config.database, context.config.database_password_file,
                          context.config.database_cache);
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

std::optional<EngineContext> open_engine_context(const std::string& config_path, int& exit_code) {
  auto ctx = open_context(config_path, exit_code);
  if (!ctx) return std::nullopt;
  auto rules = load_rules_or_report(*ctx, exit_code);
  if (!rules) return std::nullopt;
  EngineContext out{std::move(*ctx), std::move(rules), nullptr, nullptr};
  out.transport = std::make_unique<CurlTransport>(transport_options(out.ctx.config));
  out.connections = std::make_unique<ConnectionRegistry>(*out.ctx.store, *out.ctx.box, *out.transport,
                                                         SystemClock::instance(), scim_client_options(out.ctx.config));
  return out;
}

TransportOptions transport_options(const Config& config) {
  TransportOptions options;
  options.deadline = config.zoom_call_deadline;
  options.max_answer_bytes = static_cast<std::size_t>(config.zoom_max_answer_bytes);
  return options;
}

} // namespace h2r::cli
