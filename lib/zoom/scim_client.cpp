#include "zoom/scim_client.hpp"

#include "core/fiber.hpp"

#include <date/date.h>

#include "zoom/call_fence.hpp"

#include "core/text.hpp"
#include "core/time.hpp"
#include "zoom/url.hpp"
#include "zoom/user_fields.hpp"
#include "zoom/zoom_errors.hpp"

#include <date/date.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace h2r {
namespace {

constexpr const char* k_scim_media_type = "application/scim+json";

bool says_user_missing(const HttpResponse& response) {
  if (response.status != 400) return false;
  std::string detail = ascii_lower(zoom_error_detail(response.body));
  return detail.find("not exist") != std::string::npos;
}

// Zoom's "that already exists" for a user or a group: 409, or a 400 whose detail says so.
bool says_exists(const HttpResponse& response) {
  if (response.status == 409) return true;
  if (response.status != 400) return false;
  std::string detail = ascii_lower(zoom_error_detail(response.body));
  return detail.find("already exist") != std::string::npos || detail.find("already in use") != std::string::npos;
}

// A POST's answer: created (200/201), a conflict when Zoom says the user or group already exists, or
// the classified failure.
Result<void> created(const HttpResponse& response, const std::string& what, SystemTime now) {
  if (says_exists(response)) {
    Error error = classify_scim_failure(response, what, now);
    error.kind = ErrorKind::conflict;
    return unexpected(std::move(error));
  }
  if (response.status != 201 && response.status != 200) return unexpected(classify_scim_failure(response, what, now));
  return {};
}

// A filter value in double quotes, with `"` and `\` escaped as SCIM's filter grammar wants.
std::string quoted_filter_value(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Says, without building a document, whether a list answer is a JSON object whose "Resources" are
// absent or an empty array (a userName lookup of a hire: nobody yet). Anything else — a user listed,
// an odd Resources, not an object — leaves `plain_empty` false and the caller reads the document.
class EmptyListReader final : public nlohmann::json_sax<nlohmann::json> {
public:
  bool plain_empty() const { return m_object && !m_odd; }
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    if (m_depth == 0) m_object = true;
    value();
    return ++m_depth, true;
  }
  bool key(string_t& name) override {
    if (m_depth == 1) m_resources_key = name == "Resources";
    return true;
  }
  bool end_object() override { return --m_depth, true; }
  bool start_array(std::size_t) override {
    if (m_depth == 1 && m_resources_key) {
      m_in_resources = true;
      return ++m_depth, true;
    }
    value();
    return ++m_depth, true;
  }
  bool end_array() override {
    if (--m_depth == 1) m_in_resources = false;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
  // A value starts: at the top it is not an object; as Resources, not an array; in Resources, an item.
  bool value() {
    if (m_depth == 0 && !m_object) m_odd = true;
    if (m_depth == 1 && m_resources_key) m_odd = true;
    if (m_depth == 2 && m_in_resources) m_odd = true;
    return true;
  }
  int m_depth = 0;
  bool m_object = false;
  bool m_resources_key = false;
  bool m_in_resources = false;
  bool m_odd = false;
};

} // namespace

ScimUser scim_user_from_json(nlohmann::json body) {
  ScimUser user;
  if (body.is_object()) {
    if (auto it = body.find("id"); it != body.end() && it->is_string()) user.id = it->get<std::string>();
    if (auto it = body.find("userName"); it != body.end() && it->is_string()) user.user_name = it->get<std::string>();
    if (auto it = body.find("active"); it != body.end() && it->is_boolean()) user.active = it->get<bool>();
  }
  user.body = std::move(body);
  return user;
}

Result<ScimUserPage> parse_user_list(std::string_view body, long long start_index, const std::string& what) {
  constexpr long long k_most = 1'000'000'000'000;
  auto list = nlohmann::json::parse(body, nullptr, false);
  if (!list.is_object()) return fail(ErrorKind::transient, what + ": Zoom's answer is not a JSON object");
  auto count = [&](const char* key, long long least, long long fallback) -> Result<long long> {
    auto it = list.find(key);
    if (it == list.end()) return fallback;
    if (!it->is_number_integer() || it->get<long long>() < least || it->get<long long>() > k_most ||
        (it->is_number_unsigned() && it->get<unsigned long long>() > static_cast<unsigned long long>(k_most)))
      return fail(ErrorKind::transient, what + ": Zoom's answer: " + key + " is " + server_text(truncate_utf8(it->dump(), 40)) +
                                            ", not an integer from " + std::to_string(least) + " to 10^12");
    return it->get<long long>();
  };
  ScimUserPage page;
  page.total = H2R_TRY(count("totalResults", 0, 0));
  page.start_index = H2R_TRY(count("startIndex", 1, start_index));
  auto resources = list.find("Resources");
  if (resources == list.end()) return page;
  if (!resources->is_array())
    return fail(ErrorKind::transient, what + ": Zoom's answer: Resources is not an array (JSON type " +
                                          resources->type_name() + ")");
  page.users.reserve(resources->size());
  for (auto& item : *resources) page.users.push_back(scim_user_from_json(std::move(item)));
  return page;
}

ScimClient::ScimClient(ZoomConnection connection, HttpTransport& transport, TokenCache& tokens,
                       RateLimiter& limiter, const Clock& clock, ScimClientOptions options)
    : m_connection(std::move(connection)), m_transport(transport), m_tokens(tokens), m_limiter(limiter),
      m_clock(clock), m_options(std::move(options)) {}

bool ScimClient::wait_until(SystemTime t) {
  if (m_options.sleep_until) return m_options.sleep_until(t);
  auto now = m_clock.now();
  if (t > now && !fiber::sleep_for(t - now)) std::this_thread::sleep_for(t - now);   // a fiber lets others run
  return true;
}

Result<HttpResponse> ScimClient::call(const std::string& method, const std::string& path, const std::string& route,
                                      const nlohmann::json& body, const std::string& what) {
  std::string text = body.dump();
  return call(method, path, route, &text, what);
}

Result<HttpResponse> ScimClient::call(const std::string& method, const std::string& path, const std::string& route,
                                      std::string* body, const std::string& what) {
  HttpRequest request;
  request.method = method;
  request.url = join_url(m_connection.api_url, path);
  request.headers = {{"Authorization", ""}, {"Accept", k_scim_media_type}};
  if (body) {
    request.body = std::move(*body);
    request.content_type = k_scim_media_type;
  }
  bool token_retried = false;
  int rate_limit_retries = 0;
  for (;;) {
    SystemTime slot = m_limiter.reserve(m_clock.now());
    auto pause = m_limiter.pause(m_clock.now());
    const auto inline_limit =
        pause ? std::min(m_options.max_inline_wait, m_options.max_inline_pause) : m_options.max_inline_wait;
    if (slot - m_clock.now() > inline_limit) {
      const std::string reason = pause ? pause->second : "rate limit";
      Error paused = Error::transient(what + ": connection " + m_connection.name + " is paused (" + reason +
                                      ") until " + format_utc(slot));
      paused.reason = ErrorReason::paused;
      paused.daily_limit = reason == k_daily_limit_reason;
      paused.retry_at = slot;
      return unexpected(std::move(paused));
    }
    if (!wait_until(slot)) return fail(ErrorKind::transient, what + ": interrupted by shutdown");

    auto token = m_tokens.get(m_connection.name, m_connection.credentials);
    if (!token) return unexpected(std::move(token).error());

    // The last step before the request leaves: a call that changes something is sent only while the
    // work it belongs to is still this daemon's (zoom/call_fence.hpp).
    if (method != "GET") {
      const std::string sent_at = date::format(
          "%Y-%m-%dT%H:%M:%SZ", std::chrono::time_point_cast<std::chrono::milliseconds>(m_clock.now()));
      if (auto fenced = check_call_fence(method + " " + path + " (" + what + ")", sent_at); !fenced) {
        Error error = std::move(fenced).error();
        error.message = what + ": not sent: " + error.message;
        return unexpected(std::move(error));
      }
    }
    request.headers[0].second = "Bearer " + token->reveal();
    auto started = std::chrono::steady_clock::now();
    auto response = send_from_fiber(m_transport, request);   // a fiber gives its thread back meanwhile
    if (m_options.observer)
      m_options.observer({m_connection.name, method, route, response ? response->status : 0,
                          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)});
    if (!response) {
      Error error = std::move(response).error();
      error.message = what + ": " + server_text(error.message);
      return unexpected(std::move(error));
    }
    // A failure's body may echo what was sent: scrubbed of the token and the client secret before
    // anything (a reason, a log line, last_error) reads it.
    if (response->status < 200 || response->status > 299)
      response->body = scrub_secrets(std::move(response->body),
                                     {token->reveal(), m_connection.credentials.client_secret.reveal()});
    if (response->status == 401) {
      Error error = classify_scim_failure(*response, what, m_clock.now());
      if (error.kind == ErrorKind::unauthorized && token_retried) {
        // A fresh token refused too: most likely replaced again at once (one token per account). Not
        // this event's fault: retry later rather than fail it.
        m_tokens.invalidate(m_connection.name, *token);
        error.kind = ErrorKind::transient;
        error.message += " (again, with a freshly fetched token)";
        return unexpected(std::move(error));
      }
      if (error.kind == ErrorKind::unauthorized) {
        spdlog::info("token.invalidated connection={} status=401 code=\"{}\"", escape_for_log(m_connection.name),
                     escape_for_log(error.code));
        m_tokens.invalidate(m_connection.name, *token);
        token_retried = true;
        continue;
      }
    }
    if (response->status == 429) {
      Error error = classify_scim_failure(*response, what, m_clock.now());
      SystemTime until = error.retry_at.value_or(m_clock.now() + m_options.default_retry_after);
      m_limiter.pause_until(until, error.daily_limit ? k_daily_limit_reason : "rate limited");
      spdlog::warn("scim.rate_limited connection={} type={} retry_at={}", escape_for_log(m_connection.name),
                   error.daily_limit ? "Daily-limit" : "QPS", until.time_since_epoch().count() / 1'000'000);
      if (!error.daily_limit && ++rate_limit_retries <= m_options.max_rate_limit_retries) continue;
      error.retry_at = until;
      return unexpected(std::move(error));
    }
    return response;
  }
}

Result<std::optional<ScimUser>> ScimClient::find_by_user_name(const std::string& user_name) {
  const std::string what = "look up user " + user_name;
  auto response = call("GET",
                       "/Users?filter=" + percent_encode("userName eq " + quoted_filter_value(user_name)) +
                           "&startIndex=1&count=10",
                       "/Users", nullptr, what);
  if (!response) return unexpected(std::move(response).error());
  if (says_user_missing(*response)) return std::optional<ScimUser>();
  if (response->status != 200) return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  EmptyListReader empty;
  if (nlohmann::json::sax_parse(response->body, &empty) && empty.plain_empty()) return std::optional<ScimUser>();
  auto list = nlohmann::json::parse(response->body, nullptr, false);
  if (!list.is_object()) return fail(ErrorKind::transient, what + ": Zoom's answer is not JSON");
  auto resources = list.value("Resources", nlohmann::json::array());
  if (!resources.is_array()) return fail(ErrorKind::transient, what + ": Zoom's answer has no Resources list");
  for (auto& item : resources) {
    ScimUser user = scim_user_from_json(item);
    if (ascii_lower(user.user_name) == ascii_lower(user_name) && !user.id.empty()) return std::optional(user);
  }
  return std::optional<ScimUser>();
}

Result<ScimUser> ScimClient::get_user(const std::string& id) {
  const std::string what = "read user " + id;
  auto response = call("GET", "/Users/" + percent_encode(id), "/Users/{id}", nullptr, what);
  if (!response) return unexpected(std::move(response).error());
  if (response->status != 200) return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object()) return fail(ErrorKind::transient, what + ": Zoom's answer is not JSON");
  return scim_user_from_json(std::move(body));
}

Result<ScimUserPage> ScimClient::list_users(long long start_index, int count) {
  const std::string what = "list users";
  auto response = call("GET", "/Users?startIndex=" + std::to_string(start_index) + "&count=" + std::to_string(count),
                       "/Users", nullptr, what);
  if (!response) return unexpected(std::move(response).error());
  if (response->status != 200) return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  return parse_user_list(response->body, start_index, what);
}

Result<ScimUser> ScimClient::create_user(const nlohmann::json& body) {
  return create_user(body.value("userName", std::string()), body.dump());
}

Result<ScimUser> ScimClient::create_user(const std::string& user_name, std::string body_text) {
  const std::string what = "create user " + user_name;
  auto response = call("POST", "/Users", "/Users", &body_text, what);
  if (!response) return unexpected(std::move(response).error());
  H2R_TRY(created(*response, what, m_clock.now()));
  UserFields fields;
  if (!read_user_fields(response->body, fields) || fields.id.empty())
    return fail(ErrorKind::transient, what + ": Zoom's answer has no user id");
  ScimUser user;
  user.id = std::move(fields.id);
  user.user_name = std::move(fields.user_name);
  user.active = fields.active;
  // An answer about another user than the one sent (the provisioner refuses it): its text is kept to
  // be quoted. The usual answer is not copied.
  if (!user.user_name.empty() && ascii_lower(user.user_name) != ascii_lower(user_name)) user.body = response->body;
  return user;
}

Result<ScimUser> ScimClient::update_user(const std::string& id, const nlohmann::json& body) {
  const std::string what = "update user " + id;
  auto response = call("PUT", "/Users/" + percent_encode(id), "/Users/{id}", body, what);
  if (!response) return unexpected(std::move(response).error());
  if (response->status != 200 && response->status != 204)
    return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  return scim_user_from_json(nlohmann::json::parse(response->body, nullptr, false));
}

Result<void> ScimClient::set_active(const std::string& id, bool active) {
  const std::string what = std::string(active ? "reactivate" : "deactivate") + " user " + id;
  nlohmann::json body = {{"schemas", {k_scim_patch_urn}},
                         {"Operations", {{{"op", "replace"}, {"value", {{"active", active}}}}}}};
  auto response = call("PATCH", "/Users/" + percent_encode(id), "/Users/{id}", body, what);
  if (!response) return unexpected(std::move(response).error());
  if (response->status != 200 && response->status != 204)
    return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  return {};
}

Result<void> ScimClient::delete_user(const std::string& id) {
  const std::string what = "delete user " + id;
  auto response = call("DELETE", "/Users/" + percent_encode(id), "/Users/{id}", nullptr, what);
  if (!response) return unexpected(std::move(response).error());
  if (response->status != 204 && response->status != 200)
    return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  return {};
}

Result<std::optional<ScimGroup>> ScimClient::find_group(const std::string& display_name) {
  const std::string what = "look up group " + display_name;
  auto response = call("GET", "/Groups?filter=" + percent_encode("displayName eq " + quoted_filter_value(display_name)),
                       "/Groups", nullptr, what);
  if (!response) return unexpected(std::move(response).error());
  if (response->status != 200) return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  auto list = nlohmann::json::parse(response->body, nullptr, false);
  if (!list.is_object()) return fail(ErrorKind::transient, what + ": Zoom's answer is not JSON");
  const auto resources = list.value("Resources", nlohmann::json::array());
  // The group whose name is `display_name` exactly; else one that differs only in ASCII case, as Zoom's
  // filter and its uniqueness compare names (a group named from HR data, "Dept sales", finds Zoom's
  // "Dept Sales" instead of failing on a create that Zoom refuses as a duplicate).
  const nlohmann::json* found = nullptr;   // into `resources`, which outlives it
  const std::string wanted_lower = ascii_lower(display_name);
  if (!resources.is_array()) return std::optional<ScimGroup>();
  for (const auto& item : resources) {
    if (!item.is_object() || !item.contains("displayName") || !item["displayName"].is_string() || !item.contains("id") ||
        !item["id"].is_string())
      continue;
    const auto& name = item["displayName"].get_ref<const std::string&>();
    if (name == display_name) {
      found = &item;
      break;
    }
    if (!found && ascii_lower(name) == wanted_lower) found = &item;
  }
  if (found) {
    const auto& item = *found;
    ScimGroup group{item["id"].get<std::string>(), item["displayName"].get<std::string>(), std::nullopt};
    if (item.contains("members") && item["members"].is_array()) {
      group.members.emplace();
      for (const auto& m : item["members"])
        if (m.is_object() && m.contains("value") && m["value"].is_string()) group.members->insert(m["value"].get<std::string>());
    }
    return std::optional<ScimGroup>(std::move(group));
  }
  return std::optional<ScimGroup>();
}

Result<std::optional<std::string>> ScimClient::find_group_id(const std::string& display_name) {
  auto group = find_group(display_name);
  if (!group) return unexpected(std::move(group).error());
  if (!*group) return std::optional<std::string>();
  return std::optional<std::string>((*group)->id);
}

bool ScimClient::creates_missing_groups() const {
  const auto& named = m_options.create_missing_groups;
  return m_options.create_missing_groups_all || std::find(named.begin(), named.end(), name()) != named.end();
}

Result<ScimGroup> ScimClient::create_group(const std::string& display_name) {
  const std::string what = "create group " + display_name;
  nlohmann::json body = {{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:Group"}}, {"displayName", display_name}};
  auto response = call("POST", "/Groups", "/Groups", body, what);
  if (!response) return unexpected(std::move(response).error());
  H2R_TRY(created(*response, what, m_clock.now()));
  auto answer = nlohmann::json::parse(response->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("id") || !answer["id"].is_string())
    return fail(ErrorKind::transient, what + ": Zoom's answer has no group id");
  return ScimGroup{answer["id"].get<std::string>(), display_name, std::set<std::string>()};
}

Result<void> ScimClient::add_group_member(const std::string& group_id, const std::string& user_id) {
  const std::string what = "add user " + user_id + " to group " + group_id;
  nlohmann::json body = {{"schemas", {k_scim_patch_urn}},
                         {"Operations", {{{"op", "add"}, {"path", "members"}, {"value", {{{"value", user_id}}}}}}}};
  auto response = call("PATCH", "/Groups/" + percent_encode(group_id), "/Groups/{id}", body, what);
  if (!response) return unexpected(std::move(response).error());
  if (response->status != 200 && response->status != 204)
    return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  return {};
}

Result<void> ScimClient::remove_group_member(const std::string& group_id, const std::string& user_id) {
  const std::string what = "remove user " + user_id + " from group " + group_id;
  nlohmann::json body = {{"schemas", {k_scim_patch_urn}},
                         {"Operations", {{{"op", "remove"}, {"path", "members[value eq " + quoted_filter_value(user_id) + "]"}}}}};
  auto response = call("PATCH", "/Groups/" + percent_encode(group_id), "/Groups/{id}", body, what);
  if (!response) return unexpected(std::move(response).error());
  if (response->status != 200 && response->status != 204)
    return unexpected(classify_scim_failure(*response, what, m_clock.now()));
  return {};
}

} // namespace h2r
