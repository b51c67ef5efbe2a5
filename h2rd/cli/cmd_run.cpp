// h2rd run [--once [--max-wait DURATION]], h2rd check, h2rd version
#include "yaml/yaml_reader.hpp"
#include "core/build_info.hpp"
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "rules/rules.hpp"
#include "daemon/daemon.hpp"
#include "daemon/signal_thread.hpp"
#include "store/sqlite/instance_lock.hpp"
#include "zoom/http_transport.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace h2r::cli {

int cmd_run(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("run", words, parse_code);
  if (!args) return parse_code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd run [--once] (see `h2rd run --help`)");
    return k_exit_usage;
  }
  std::chrono::milliseconds max_wait = k_default_max_wait;
  if (auto text = args->value("--max-wait")) {
    auto parsed = yaml::parse_duration(*text);
    if (!args->has("--once") || !parsed || *parsed > k_max_max_wait) {
      print_error(!args->has("--once") ? "--max-wait goes with --once"
                                       : "--max-wait must be a duration from 0s to 24h (e.g. 90s, 5m), got '" + *text + "'");
      return k_exit_usage;
    }
    max_wait = *parsed;
  }
  // Signals go to a dedicated thread (sigwait), never to a handler: block them before any thread starts.
  const sigset_t signals = block_daemon_signals();

  int code = k_exit_ok;
  auto ctx = open_context(config_path, code);
  if (!ctx) return code;
  // One `h2rd run` (daemon or --once) per SQLite database, held until this function returns; a shared
  // store (PostgreSQL) takes several daemons.
  std::optional<InstanceLock> instance;
  if (!ctx->store->shared()) {
    auto lock = InstanceLock::acquire(ctx->config.database);
    if (!lock) {
      print_error(lock.error().message);
      return k_exit_failed;
    }
    instance.emplace(std::move(*lock));
  }
  HttplibTransport transport(transport_options(ctx->config));
  const bool once = args->has("--once");
  Daemon daemon(ctx->config, *ctx->store, *ctx->box, transport, SystemClock::instance(), once);
  if (auto started = daemon.start(); !started) {
    print_error("cannot start: " + started.error().message);
    return started.error().kind == ErrorKind::invalid ? k_exit_config : k_exit_failed;
  }
  // After a shutdown request the loop has k_shutdown_deadline to finish, then the process ends (exit 0:
  // unfinished events stay due and run after the next start).
  SignalThread signal_thread(
      signals,
      {.reload = [&] { daemon.request_reload(); },
       .shutdown =
           [&](int sig) {
             spdlog::info("daemon.signal signal={} action=shutdown deadline_s={}", sig == SIGINT ? "SIGINT" : "SIGTERM",
                          k_shutdown_deadline.count());
             daemon.request_shutdown();
           },
       .deadline_passed =
           [] {
             spdlog::error("daemon.shutdown_forced deadline_s={} note=\"events in hand stay due\"",
                           k_shutdown_deadline.count());
             std::_Exit(k_exit_ok);
           }},
      k_shutdown_deadline);
  const int result = once ? daemon.run_once(max_wait) : daemon.run();
  signal_thread.finished();
  return result;
}

int cmd_version(const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("version", words, parse_code);
  if (!args) return parse_code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd version [--json]");
    return k_exit_usage;
  }
  if (args->has("--json"))
    print_json({{"version", H2R_VERSION}, {"build_type", H2R_BUILD_TYPE}, {"compiler", H2R_COMPILER}});
  else
    std::cout << "h2rd " << H2R_VERSION << " (" << H2R_BUILD_TYPE << ", " << H2R_COMPILER << ")\n";
  return k_exit_ok;
}

} // namespace h2r::cli
