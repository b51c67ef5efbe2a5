// zoom-sim: a stand-in for Zoom's OAuth and SCIM2 API on 127.0.0.1, for tests, the demo and the
// benchmarks. See --help, and docs/zoom.md for the behaviour it copies.
#include "routes.hpp"
#include "sim_state.hpp"

#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <random>
#include <sstream>
#include <thread>

namespace {

using zoom_sim::Options;
using nlohmann::json;

constexpr size_t k_min_threads = 16;
constexpr size_t k_keep_alive_max_requests = 10'000;

constexpr const char* k_usage = R"(usage: zoom-sim [options]
  --port N                 port on --host (0 = ephemeral, the default)
  --host ADDR              default 127.0.0.1
  --account-id ID          default acc-demo
  --client-id ID           default cid-demo
  --client-secret-file F   file holding the client secret (default secret: sim-secret)
  --users-base PATH        SCIM base path, default /scim2
  --group NAME             seed a group (repeatable)
  --verbose                log requests to stderr
  --threads N              request threads, 1..1024 (default max(16, cores)); each keep-alive
                           connection holds one while open, so a client with more connections waits
faults (also settable at runtime with POST /_sim/config):
  --rate-limit N           SCIM requests/second per account (burst N); 429 beyond
  --retry-after-format F   iso (default) | seconds | http-date | none
  --daily-limit N          SCIM requests per UTC day; 429 Daily-limit beyond
  --fail-rate P            share of SCIM calls answered 500/502/503
  --lost-create-rate P     share of creates applied but answered 502
  --latency-ms N           delay before every answer
  --token-lifetime S       token expires_in, default 3600
  --single-token           a new token invalidates the previous ones
  --missing-scope          every SCIM call answers 401 code 4711
  --create-answers-other   a create is not applied but answered with another existing user
  --fail-group-removes N   the next N group-member removals answer 503 without effect
  --seed N                 PRNG seed for ids and random faults
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "zoom-sim: " << message << "\n" << k_usage;
  std::exit(2);
}

json number_value(const std::string& flag, const std::string& text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_number()) {
    usage_error(flag + ": expected a number, got '" + text + "'");
  }
  return value;
}

std::string read_secret(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    usage_error("--client-secret-file: cannot read " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) {
    usage_error("--client-secret-file: " + path + " is empty");
  }
  return secret;
}

// Fills `options`, and `faults` with the fault flags as a /_sim/config body.
void parse_args(int argc, char** argv, Options& options, json& faults) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (const size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto value = [&]() -> std::string {
      if (inline_value) {
        return *inline_value;
      }
      if (i + 1 >= args.size()) {
        usage_error(flag + " needs a value");
      }
      return args[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::cout << k_usage;
      std::exit(0);
    } else if (flag == "--port") {
      const json port = number_value(flag, value());
      if (!port.is_number_integer() || port.get<int>() < 0 || port.get<int>() > 65535) {
        usage_error("--port: expected 0..65535");
      }
      options.port = port.get<int>();
    } else if (flag == "--host") {
      options.host = value();
    } else if (flag == "--account-id") {
      options.account_id = value();
    } else if (flag == "--client-id") {
      options.client_id = value();
    } else if (flag == "--client-secret-file") {
      options.client_secret = read_secret(value());
    } else if (flag == "--users-base") {
      options.users_base = value();
      if (options.users_base.empty() || options.users_base.front() != '/' || options.users_base.back() == '/') {
        usage_error("--users-base: expected a path like /scim2");
      }
    } else if (flag == "--group") {
      options.groups.push_back(value());
    } else if (flag == "--verbose") {
      options.verbose = true;
    } else if (flag == "--threads") {
      const json threads = number_value(flag, value());
      if (!threads.is_number_integer() || threads.get<int>() < 1 || threads.get<int>() > 1024) {
        usage_error("--threads: expected 1..1024");
      }
      options.threads = threads.get<int>();
    } else if (flag == "--seed") {
      const json seed = number_value(flag, value());
      if (!seed.is_number_unsigned()) {
        usage_error("--seed: expected a non-negative integer");
      }
      options.seed = seed.get<uint64_t>();
      options.seed_given = true;
    } else if (flag == "--single-token" || flag == "--missing-scope" || flag == "--create-answers-other") {
      faults[flag.substr(2)] = true;
    } else if (flag == "--retry-after-format") {
      faults["retry-after-format"] = value();
    } else if (flag == "--rate-limit" || flag == "--daily-limit" || flag == "--fail-rate" ||
               flag == "--lost-create-rate" || flag == "--latency-ms" || flag == "--token-lifetime" ||
               flag == "--fail-group-removes") {
      faults[flag.substr(2)] = number_value(flag, value());
    } else {
      usage_error("unknown option " + flag);
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  Options options;
  json faults = json::object();
  parse_args(argc, argv, options, faults);
  if (!options.seed_given) {
    options.seed = std::random_device{}();
  }

  zoom_sim::SimState sim(options);
  if (const auto error = sim.faults.configure(faults)) {
    usage_error(*error);
  }
  for (const std::string& group : options.groups) {
    sim.store.create_group(group);
  }

  // SIGINT/SIGTERM are taken by sigwait in one thread; every other thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  httplib::Server server;
  const size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                            : std::max<size_t>(k_min_threads, std::thread::hardware_concurrency());
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(k_keep_alive_max_requests);
  server.set_tcp_nodelay(true);
  if (options.verbose) {
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "zoom-sim: %s %s -> %d\n", req.method.c_str(), req.target.c_str(), res.status);
    });
  }
  zoom_sim::register_oauth_routes(server, sim);
  zoom_sim::register_user_routes(server, sim);
  zoom_sim::register_group_routes(server, sim);
  zoom_sim::register_sim_routes(server, sim);

  const int port = options.port == 0 ? server.bind_to_any_port(options.host)
                                     : (server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port <= 0) {
    std::cerr << "zoom-sim: cannot listen on " << options.host << ":" << options.port << "\n";
    return 1;
  }
  sim.options.port = port;
  sim.store.set_location_base(sim.base_url() + options.users_base);
  std::cout << "zoom-sim listening on " << options.host << ":" << port << std::endl;

  std::thread waiter([&server, &stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    server.stop();
  });
  const bool ok = server.listen_after_bind();
  pthread_kill(waiter.native_handle(), SIGTERM); // wakes the waiter if listening ended on its own
  waiter.join();
  return ok ? 0 : 1;
}
