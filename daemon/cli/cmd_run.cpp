// h2rd run [--once], h2rd check, h2rd version
#include "core/build_info.hpp"
#include "core/logging.hpp"
#include "daemon/cli/commands.hpp"
#include "daemon/cli/context.hpp"
#include "rules/rules.hpp"
#include "service/daemon.hpp"
#include "zoom/http_transport.hpp"

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace h2r::cli {

int cmd_run(const std::string& config_path, const Words& words) {
  std::string error;
  auto args = parse_args(words, {}, {"--once"}, error);
  if (!args || !args->positional.empty()) {
    print_error(args ? "usage: h2rd run [--once]" : error);
    return k_exit_usage;
  }
  // Signals go to a dedicated thread (sigwait), never to a handler: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  int code = k_exit_ok;
  auto ctx = open_context(config_path, code);
  if (!ctx) return code;
  init_logging(ctx->config.log_level, ctx->config.log_format);
  HttplibTransport transport;
  const bool once = args->has("--once");
  Daemon daemon(ctx->config, *ctx->store, *ctx->box, transport, SystemClock::instance(), once);
  if (!daemon.start()) {
    print_error("cannot start: the rules file " + ctx->config.rules + " or the inbox " + ctx->config.inbox +
                " is not usable (see the log above; `h2rd check` lists every problem)");
    return k_exit_config;
  }
  std::thread signal_thread([&daemon, signals] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        daemon.request_reload();
      } else {
        daemon.request_shutdown();
        return;
      }
    }
  });
  int result = once ? daemon.run_once() : daemon.run();
  // Wake the signal thread so it can end.
  daemon.request_shutdown();
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  return result;
}

int cmd_version(const Words& words) {
  std::string error;
  auto args = parse_args(words, {}, {"--json"}, error);
  if (!args) {
    print_error(error);
    return k_exit_usage;
  }
  if (args->has("--json"))
    print_json({{"version", H2R_VERSION}, {"build_type", H2R_BUILD_TYPE}, {"compiler", H2R_COMPILER}});
  else
    std::cout << "h2rd " << H2R_VERSION << " (" << H2R_BUILD_TYPE << ", " << H2R_COMPILER << ")\n";
  return k_exit_ok;
}

} // namespace h2r::cli
