#include "http_util.hpp"
#include "routes.hpp"

#include <regex>
#include <thread>

namespace zoom_sim {

namespace {

constexpr size_t k_max_count = 100;

const char* category_name(RateCategory category) { return category == RateCategory::light ? "Light" : "Medium"; }

std::optional<long long> read_integer(const httplib::Request& req, const char* name, long long fallback) {
  if (!req.has_param(name)) {
    return fallback;
  }
  const std::string text = req.get_param_value(name);
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size()) {
      return value;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

} // namespace

void add_latency(const SimState& sim) {
  const int64_t latency_ms = sim.faults.config().latency_ms;
  if (latency_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(latency_ms));
  }
}

httplib::Server::Handler guarded(SimState& sim, std::string route, RateCategory category,
                                 httplib::Server::Handler inner) {
  return [&sim, route = std::move(route), category, inner = std::move(inner)](const httplib::Request& req,
                                                                              httplib::Response& res) {
    sim.stats.count_request(route);
    add_latency(sim);
    const FaultConfig config = sim.faults.config();
    const std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view k_bearer = "Bearer ";
    const bool has_bearer = auth.size() > k_bearer.size() && iequals(auth.substr(0, k_bearer.size()), k_bearer);
    if (!has_bearer || sim.tokens.check(auth.substr(k_bearer.size())) != TokenCheck::valid) {
      send_zoom_error(res, 401, 124, "Invalid access token.");
    } else if (config.missing_scope) {
      send_zoom_error(res, 401, 4711, "Invalid access token, does not contain scopes:[user:write:admin]");
    } else if (const auto throttle = sim.faults.admit()) {
      sim.stats.count_rate_limited();
      set_throttle_headers(res, *throttle, config.retry_after_format, category_name(category));
      send_zoom_error(res, 429, 429,
                      throttle->daily ? "You have reached the maximum daily rate limit for this API."
                                      : "You have reached the maximum per-second rate limit for this API.");
    } else if (const auto failure = sim.faults.injected_failure()) {
      send_zoom_error(res, *failure, *failure, "Internal error. Please try again later.");
    } else {
      inner(req, res);
    }
    sim.stats.count_status(res.status);
    std::string user_name;
    if (req.method == "POST" && route == "POST /Users") {
      const auto body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_object() && body.contains("userName") && body["userName"].is_string()) {
        user_name = body["userName"].get<std::string>();
      }
    }
    sim.requests.add(req.method, req.path, res.status, user_name);
  };
}

bool read_eq_filter(const httplib::Request& req, httplib::Response& res, const char* attribute,
                    std::optional<std::string>& value) {
  if (!req.has_param("filter")) {
    return true;
  }
  static const std::regex k_eq(R"re(^\s*([A-Za-z.]+)\s+([A-Za-z]+)\s+"((?:[^"\\]|\\.)*)"\s*$)re");
  const std::string filter = req.get_param_value("filter");
  std::smatch match;
  if (!std::regex_match(filter, match, k_eq) || !iequals(match[1].str(), attribute) || !iequals(match[2].str(), "eq")) {
    send_scim_error(res, 400, "Unsupported filter: " + filter + " (only " + attribute + " eq \"…\")", "invalidFilter");
    return false;
  }
  std::string unescaped;
  const std::string quoted = match[3].str();
  for (size_t i = 0; i < quoted.size(); ++i) {
    if (quoted[i] == '\\' && i + 1 < quoted.size()) {
      ++i;
    }
    unescaped.push_back(quoted[i]);
  }
  value = unescaped;
  return true;
}

bool read_paging(const httplib::Request& req, httplib::Response& res, size_t& start_index, size_t& count) {
  const auto start = read_integer(req, "startIndex", 1);
  const auto wanted = read_integer(req, "count", static_cast<long long>(k_max_count));
  if (!start || !wanted) {
    send_scim_error(res, 400, "startIndex and count must be integers.", "invalidValue");
    return false;
  }
  // RFC 7644 §3.4.2.4: startIndex < 1 means 1, a negative count means 0.
  start_index = static_cast<size_t>(std::max(1LL, *start));
  count = static_cast<size_t>(std::clamp(*wanted, 0LL, static_cast<long long>(k_max_count)));
  return true;
}

nlohmann::json list_response(size_t total, size_t start_index, nlohmann::json items) {
  const size_t per_page = items.size();
  return {{"schemas", {k_list_schema}},
          {"totalResults", total},
          {"startIndex", start_index},
          {"itemsPerPage", per_page},
          {"Resources", std::move(items)}};
}

} // namespace zoom_sim
