// What most commands need: the config, the store and the secret box, opened with clear errors.
#pragma once

#include "config/config.hpp"
#include "engine/connection_registry.hpp"
#include "rules/rules.hpp"
#include "h2rd/cli/args.hpp"
#include "secrets/secret_box.hpp"
#include "views/views.hpp"
#include "store/store.hpp"
#include "zoom/curl_transport.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

namespace h2r::cli {

struct Context {
  Config config;
  std::unique_ptr<Store> store;
  std::unique_ptr<SecretBox> box;
};

// Whether a command may make a new key file when it is missing although the database holds secrets
// sealed with the lost key. Only `connection update NAME --client-secret-…` (re-sealing a secret) may.
enum class NewKey { only_when_no_secrets, allowed };

// Loads the config (problems → each printed to stderr, exit 78), sends logging to stderr as the config
// says (so stdout stays the command's report), then opens the database and the secret key (failures →
// stderr, exit 78 for key/config trouble, 1 otherwise). A missing key file is created only while no
// connection holds a sealed secret (or with NewKey::allowed); otherwise exit 78 with the recovery steps.
std::optional<Context> open_context(const std::string& config_path, int& exit_code,
                                    NewKey new_key = NewKey::only_when_no_secrets);

// For the commands that never touch a secret (`status`, `events ...`): the config and the store, no
// secret box, so the key file is neither read nor made. An operator in the service's group runs them
// without sudo: the key file stays readable by its owner only (docs/operations.md, "Operators").
std::optional<Context> open_context_without_key(const std::string& config_path, int& exit_code);

// For `h2rd status`: like open_context_without_key, but a config file with errors (which a running daemon refused
// on reload, keeping its settings) is read leniently, each problem printed to stderr as a warning, so
// status can still show the daemon — as long as the database it names exists. No secret box.
std::optional<Context> open_status_context(const std::string& config_path, int& exit_code);

// The rules file of the config, or nullptr with every problem printed to stderr (exit 78).
RulesPtr load_rules_or_report(const Context& context, int& exit_code);

// What the commands that ask Zoom through the engine need (plan, provision, reconcile, events show
// --plan): the context with its key, the rules in force and the connections over a real transport
// (zoom.call_deadline, zoom.max_answer_bytes; the client options of h2rd.yaml). nullopt with
// `exit_code` set (each problem printed) when one cannot be had.
struct EngineContext {
  Context ctx;
  RulesPtr rules;
  std::unique_ptr<CurlTransport> transport;
  std::unique_ptr<ConnectionRegistry> connections;
};
std::optional<EngineContext> open_engine_context(const std::string& config_path, int& exit_code);

// One-sentence error to stderr: "h2rd: <message>".
// The transport options h2rd.yaml sets (zoom.call_deadline, zoom.max_answer_bytes).
TransportOptions transport_options(const Config& config);

void print_error(const std::string& message);
void print_json(const nlohmann::json& value);

// "2026-11-28T10:15:00Z" (or "-" for 0) and its --json form (null for 0): lib/views/views.hpp.
using h2r::time_text;
using h2r::time_json;
// A JSON value for people: strings as they are, null as "-", anything else as JSON.
std::string json_text(const nlohmann::json& value);

} // namespace h2r::cli
