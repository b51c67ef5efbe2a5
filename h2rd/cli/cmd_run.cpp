// h2rd run [--once [--max-wait DURATION]], h2rd check, h2rd version
#include "yaml/yaml_reader.hpp"
#include "core/build_info.hpp"
#include "h2rd/cli/args.hpp"
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "rules/rules.hpp"
#include "daemon/daemon.hpp"
#include "daemon/signal_thread.hpp"
#include "store/sqlite/instance_lock.hpp"
#include "zoom/curl_transport.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>

namespace h2r::cli {

namespace {

// `--max-wait` (with --once only; 0s..24h), else k_default_max_wait; nullopt after printing a usage error.
std::optional<std::chrono::milliseconds> max_wait_of(const Args& args) {
  auto text = args.value("--max-wait");
  if (!text) return k_default_max_wait;
  auto parsed = yaml::parse_duration(*text);
  if (!args.has("--once") || !parsed || *parsed > k_max_max_wait) {
    print_error(!args.has("--once") ? "--max-wait goes with --once"
                                    : "--max-wait must be a duration from 0s to 24h (e.g. 90s, 5m), got '" + *text + "'");
    return std::nullopt;
  }
  return *parsed;
}

// One `h2rd run` (daemon or --once) per SQLite database: takes its lock into `held`, kept while the
// caller keeps it; a shared store (PostgreSQL) takes several daemons (nothing to hold). False after
// printing why not.
bool lock_instance(const Context& ctx, std::optional<InstanceLock>& held) {
  if (ctx.store->shared()) return true;
  auto lock = InstanceLock::acquire(ctx.config.database);
  if (!lock) {
    print_error(lock.error().message);
    return false;
  }
  held.emplace(std::move(*lock));
  return true;
}

// Runs the started `daemon` (or, with `once`, one run of it within `max_wait`) with `signals` turned
// into its commands. After a shutdown request the loop has k_shutdown_deadline to finish, then the
// process ends (exit 0: unfinished events stay due and run after the next start).
int run_with_signals(Daemon& daemon, const sigset_t& signals, bool once, std::chrono::milliseconds max_wait) {
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

} // namespace

int cmd_run(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("run", words, parse_code);
  if (!args) return parse_code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd run [--once] (see `h2rd run --help`)");
    return k_exit_usage;
  }
  const auto max_wait = max_wait_of(*args);
  if (!max_wait) return k_exit_usage;
  // Signals go to a dedicated thread (sigwait), never to a handler: block them before any thread starts.
  const sigset_t signals = block_daemon_signals();

  int code = k_exit_ok;
  auto ctx = open_context(config_path, code);
  if (!ctx) return code;
  std::optional<InstanceLock> instance;   // held until this function returns
  if (!lock_instance(*ctx, instance)) return k_exit_failed;
  CurlTransport transport(transport_options(ctx->config));
  const bool once = args->has("--once");
  Daemon daemon(ctx->config, *ctx->store, *ctx->box, transport, SystemClock::instance(), once);
  if (auto started = daemon.start(); !started) {
    print_error("cannot start: " + started.error().message);
    return started.error().kind == ErrorKind::invalid ? k_exit_config : k_exit_failed;
  }
  return run_with_signals(daemon, signals, once, *max_wait);
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
