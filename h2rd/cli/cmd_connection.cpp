// h2rd connection add|list|show|test|update|remove
#include "h2rd/cli/commands.hpp"
#include "core/clock.hpp"
#include "h2rd/cli/context.hpp"
#include "engine/connection_probe.hpp"
#include "engine/connection_registry.hpp"
#include "engine/group_check.hpp"
#include "zoom/rate_limiter.hpp"
#include "zoom/url.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace h2r::cli {
namespace {

constexpr const char* k_default_oauth_url = "https://zoom.us/oauth/token";
constexpr const char* k_default_api_url = "https://api.zoom.us/scim2";
constexpr std::size_t k_max_secret_bytes = 4096;

std::string strip_line_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// The secret from --client-secret-file or --client-secret-stdin; nullopt (with a message) on trouble.
std::optional<Secret> read_secret(const Args& args, bool required) {
  const bool from_stdin = args.has("--client-secret-stdin");
  const auto file = args.value("--client-secret-file");
  if (from_stdin && file) {
    print_error("give the client secret once: --client-secret-file or --client-secret-stdin, not both");
    return std::nullopt;
  }
  std::string text;
  if (from_stdin) {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = in.str();
  } else if (file) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      print_error("cannot read the client secret file " + *file);
      return std::nullopt;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  } else {
    if (required) print_error("the client secret is needed: --client-secret-file FILE or --client-secret-stdin");
    return std::nullopt;
  }
  Secret secret(strip_line_end(std::move(text)));
  if (secret.empty() || secret.reveal().size() > k_max_secret_bytes ||
      secret.reveal().find_first_of("\r\n") != std::string::npos) {
    print_error(std::string("the client secret from ") + (from_stdin ? "stdin" : *file) +
                " is empty or not one line");
    return std::nullopt;
  }
  return secret;
}

bool apply_settings(const Args& args, ConnectionRow& row) {
  if (auto v = args.value("--account-id")) row.account_id = *v;
  if (auto v = args.value("--client-id")) row.client_id = *v;
  if (auto v = args.value("--oauth-url")) row.oauth_url = *v;
  if (auto v = args.value("--api-url")) row.api_url = *v;
  // update without either keeps the stored choice
  if (args.has("--allow-insecure-http") && args.has("--deny-insecure-http")) {
    print_error("--allow-insecure-http and --deny-insecure-http contradict each other: give one");
    return false;
  }
  if (args.has("--allow-insecure-http")) row.allow_insecure_http = true;
  if (args.has("--deny-insecure-http")) row.allow_insecure_http = false;
  for (const auto& [flag, url] : {std::pair{"--oauth-url", row.oauth_url}, std::pair{"--api-url", row.api_url}}) {
    if (!split_url(url)) {
      print_error(std::string(flag) + ": '" + url + "' is not an http(s) URL");
      return false;
    }
    if (auto problem = insecure_url_problem(flag, url, row.allow_insecure_http)) {
      print_error(*problem);
      return false;
    }
  }
  if (auto v = args.value("--rate-limit")) {
    char* end = nullptr;
    double rate = std::strtod(v->c_str(), &end);
    if (end == v->c_str() || *end != '\0' || !(rate >= k_min_rate_limit) || !(rate <= k_max_rate_limit)) {
      print_error("--rate-limit: '" + *v + "' is not a number of requests per second from " +
                  fmt::format("{} to {}", k_min_rate_limit, k_max_rate_limit));
      return false;
    }
    row.rate_limit = rate;
  }
  if (row.account_id.empty() || row.client_id.empty()) {
    print_error("--account-id and --client-id must not be empty");
    return false;
  }
  return true;
}

nlohmann::json connection_json(const ConnectionRow& row, const std::optional<ConnectionHealth>& health) {
  nlohmann::json j = {{"name", row.name},           {"account_id", row.account_id}, {"client_id", row.client_id},
                      {"client_secret", "stored encrypted"}, {"oauth_url", row.oauth_url},   {"api_url", row.api_url},
                      {"rate_limit", row.rate_limit > 0 ? row.rate_limit : k_default_rate_limit},
                      {"created", time_json(row.created_at_ms)}};
  if (row.allow_insecure_http) j["allow_insecure_http"] = true;
  if (health)
    j["health"] = {{"healthy", health->healthy},
                   {"last_success", time_json(health->last_success_at_ms)},
                   {"last_error", health->last_error.empty() ? nlohmann::json() : nlohmann::json(health->last_error)},
                   {"last_error_at", time_json(health->last_error_at_ms)},
                   {"paused_until", time_json(health->paused_until_ms)}};
  return j;
}

int add_or_update(Context& ctx, const Args& args, bool adding) {
  if (args.positional.size() != 2) {
    print_error(std::string("usage: h2rd connection ") + (adding ? "add" : "update") + " NAME [options]");
    return k_exit_usage;
  }
  const std::string& name = args.positional[1];
  ConnectionRow row;
  long long now = to_unix_ms(SystemClock::instance().now());
  if (adding) {
    if (!args.value("--account-id") || !args.value("--client-id")) {
      print_error("connection add needs --account-id ID and --client-id ID");
      return k_exit_usage;
    }
    row = ConnectionRow{name, "", "", "", k_default_oauth_url, k_default_api_url, 0, now, now};
  } else {
    auto existing = ctx.store->get_connection(name);
    if (!existing || !*existing) {
      print_error(existing ? "no connection named '" + name + "'" : existing.error().message);
      return k_exit_failed;
    }
    row = **existing;
    row.updated_at_ms = now;
  }
  if (!apply_settings(args, row)) return k_exit_usage;
  const bool secret_given = args.has("--client-secret-stdin") || args.value("--client-secret-file");
  if (adding || secret_given) {
    auto secret = read_secret(args, true);
    if (!secret) return k_exit_usage;
    auto blob = ctx.box->seal(*secret, name);
    if (!blob) {
      print_error(blob.error().message);
      return k_exit_failed;
    }
    row.secret_blob = std::move(*blob);
  }
  auto result = adding ? ctx.store->add_connection(row) : ctx.store->update_connection(row);
  if (!result) {
    print_error(result.error().kind == ErrorKind::conflict ? "a connection named '" + name + "' exists already"
                                                           : result.error().message);
    return k_exit_failed;
  }
  if (!adding) {
    // A changed connection starts healthy: the daemon tries it again.
    ConnectionHealth health{name};
    if (auto written = ctx.store->put_connection_health(health); !written)
      std::cerr << "h2rd: warning: the connection's health was not reset: " << written.error().message << "\n";
  }
  std::cout << "connection " << name << (adding ? " added" : " updated") << "; check it with `h2rd connection test "
            << name << "`\n";
  return k_exit_ok;
}

// `connection test NAME --groups`, once the probe `report` went well: the groups of the rules that the
// connection's Zoom account lacks (engine/group_check.hpp). Exit 1 when one is missing.
int test_groups(Context& ctx, const Args& args, HttpTransport& transport, const ProbeReport& report) {
  const std::string& name = args.positional[1];
  int code = k_exit_ok;
  auto rules = load_rules_or_report(ctx, code);
  if (!rules) return code;
  ConnectionRegistry registry(*ctx.store, *ctx.box, transport, SystemClock::instance());
  auto client = registry.client(name);
  if (!client) {
    print_error("connection " + name + ": " + client.error().message);
    return k_exit_failed;
  }
  auto check = check_groups(*ctx.store, **client, *rules);
  if (!check) {
    print_error("connection " + name + ": the group lookups failed: " + check.error().message);
    return k_exit_failed;
  }
  if (args.has("--json")) {
    auto out = probe_json(name, report);
    out["groups"] = nlohmann::json::array();
    for (const auto& g : check->groups)
      out["groups"].push_back({{"name", g.name}, {"source", g.templated ? "template" : "literal"}, {"missing", g.missing}});
    out["groups_missing"] = check->missing();
    out["groups_unchecked"] = check->templated_unchecked;
    print_json(out);
  } else {
    std::cout << "connection " << name << ": OK — token fetched, the account has " << report.user_count << " users\n";
    std::cout << "groups: " << check->groups.size() << " checked, " << check->missing() << " missing in Zoom\n";
    for (const auto& g : check->groups)
      if (g.missing)
        std::cout << "  missing: " << g.name << "  ("
                  << (g.templated ? "from a template, for employees h2r knows" : "literal in the rules") << ")\n";
    if (check->templated_unchecked)
      std::cout << "  " << check->templated_unchecked << " more templated names not looked up (at most "
                << k_max_checked_template_groups << ")\n";
  }
  return check->missing() ? k_exit_failed : k_exit_ok;
}

int test(Context& ctx, const Args& args) {
  if (args.positional.size() != 2) {
    print_error("usage: h2rd connection test NAME");
    return k_exit_usage;
  }
  const std::string& name = args.positional[1];
  CurlTransport transport(transport_options(ctx.config));
  auto report = test_stored_connection(*ctx.store, *ctx.box, name, transport, SystemClock::instance());
  if (!report && unknown_connection(report)) {
    print_error(report.error().message);
    return k_exit_failed;
  }
  const bool groups = args.has("--groups");
  if (!report || !groups) {
    if (args.has("--json")) print_json(probe_json(name, report));
    else if (report) std::cout << "connection " << name << ": OK — token fetched, the account has " << report->user_count << " users\n";
    else print_error("connection " + name + ": " + report.error().message);
    return report ? k_exit_ok : k_exit_failed;
  }
  return test_groups(ctx, args, transport, *report);
}

} // namespace

int cmd_connection(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("connection", words, parse_code);
  if (!args) return parse_code;
  const std::string sub = args->positional[0];
  int code = k_exit_ok;
  // Re-sealing a secret is the way out of a lost key file: only that may make a new one while the
  // database holds secrets sealed with the old key (context.hpp).
  const bool resealing = sub == "update" && (args->has("--client-secret-stdin") || args->value("--client-secret-file"));
  // Listing and showing read no secret, so operators without the key file (README.md, "Operators") may.
  const bool reading = sub == "list" || sub == "show";
  auto ctx = reading ? open_context_without_key(config_path, code)
                     : open_context(config_path, code, resealing ? NewKey::allowed : NewKey::only_when_no_secrets);
  if (!ctx) return code;
  if (sub == "add" || sub == "update") return add_or_update(*ctx, *args, sub == "add");
  if (sub == "test") return test(*ctx, *args);
  if (sub == "list") {
    auto rows = ctx->store->list_connections();
    if (!rows) {
      print_error(rows.error().message);
      return k_exit_failed;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : *rows) {
      auto health = ctx->store->get_connection_health(row.name);
      out.push_back(connection_json(row, health && *health ? std::optional(**health) : std::nullopt));
    }
    if (args->has("--json")) {
      print_json(out);
    } else if (out.empty()) {
      std::cout << "no connections (add one with `h2rd connection add`)\n";
    } else {
      for (const auto& c : out)
        std::cout << c["name"].get<std::string>() << "  account " << c["account_id"].get<std::string>() << "  "
                  << c["api_url"].get<std::string>() << "  "
                  << (c.contains("health") ? (c["health"]["healthy"].get<bool>() ? "healthy" : "UNHEALTHY") : "untested")
                  << "\n";
    }
    return k_exit_ok;
  }
  if (args->positional.size() != 2) {
    print_error("usage: h2rd connection " + sub + " NAME");
    return k_exit_usage;
  }
  const std::string& name = args->positional[1];
  if (sub == "remove") {
    auto r = ctx->store->remove_connection(name);
    if (!r) {
      print_error(r.error().kind == ErrorKind::not_found ? "no connection named '" + name + "'" : r.error().message);
      return k_exit_failed;
    }
    std::cout << "connection " << name << " removed (its links to Zoom users are forgotten; Zoom is unchanged)\n";
    return k_exit_ok;
  }
  auto row = ctx->store->get_connection(name);
  if (!row || !*row) {
    print_error(row ? "no connection named '" + name + "'" : row.error().message);
    return k_exit_failed;
  }
  auto health = ctx->store->get_connection_health(name);
  auto j = connection_json(**row, health && *health ? std::optional(**health) : std::nullopt);
  if (args->has("--json")) {
    print_json(j);
  } else {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "health") {
        for (auto h = it->begin(); h != it->end(); ++h)
          std::cout << "health." << h.key() << ": " << json_text(*h) << "\n";
      } else {
        std::cout << it.key() << ": " << json_text(*it) << "\n";
      }
    }
  }
  return k_exit_ok;
}

} // namespace h2r::cli
