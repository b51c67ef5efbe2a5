// h2rd console: the URL that opens the admin console logged in with a token from the token file.
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "console/console_server.hpp"
#include "ops/liveness.hpp"
#include "ops/status_server.hpp"

#include <iostream>

namespace h2r::cli {

int cmd_console(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("console", words, parse_code);
  if (!args) return parse_code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd console [--name NAME] [--json] (see `h2rd console --help`)");
    return k_exit_usage;
  }
  int code = k_exit_ok;
  auto ctx = open_context(config_path, code);
  if (!ctx) return code;
  const Config& config = ctx->config;
  if (!config.console.enabled || config.listen.empty()) {
    print_error("the console is off: set `listen` and `console.enabled: true` in " + config.path);
    return k_exit_config;
  }
  auto tokens = load_console_tokens(config.console.tokens, false);
  if (!tokens) {
    print_error(tokens.error().message + (tokens.error().kind == ErrorKind::not_found
                                              ? " (`h2rd run` creates it at its first start)" : ""));
    return tokens.error().kind == ErrorKind::not_found ? k_exit_failed : k_exit_config;
  }
  const ConsoleToken* token = nullptr;
  const auto name = args->value("--name");
  for (const auto& t : *tokens)
    if (name ? t.name == *name : (!token && t.role == ConsoleRole::reviewer)) token = &t;
  if (!token && !name) token = &tokens->front();
  if (!token) {
    print_error("no token named '" + *name + "' in " + config.console.tokens);
    return k_exit_failed;
  }
  // The address the running daemon bound (port 0 = a free port), else the configured one.
  DaemonLiveness live = daemon_liveness(*ctx->store, std::chrono::system_clock::now());
  std::string listen = live.state != "stopped" && !live.metrics_listen.empty() ? live.metrics_listen : config.listen;
  auto address = parse_listen(listen);
  if (!address) {
    print_error(address.error().message);
    return k_exit_config;
  }
  std::string host = address->host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  else if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  const std::string url = "http://" + host + ":" + std::to_string(address->port) + Console::login_path(*token);
  if (args->has("--json")) {
    print_json({{"url", url}, {"name", token->name}, {"role", to_string(token->role)},
                {"daemon_running", live.state != "stopped"}});
    return k_exit_ok;
  }
  std::cout << "Open the h2r console (logged in as " << token->name << ", " << to_string(token->role) << "):\n  " << url
            << "\n";
  if (live.state == "stopped") std::cout << "(the daemon is not running: start `h2rd run` first)\n";
  std::cout << "The link holds a secret: do not share it. From another machine: ssh -L " << address->port
            << ":localhost:" << address->port << " THIS-HOST, then open it with localhost.\n";
  return k_exit_ok;
}

} // namespace h2r::cli
