#include "zoom/token_cache.hpp"

#include "core/text.hpp"
#include "core/saturating.hpp"
#include "zoom/url.hpp"
#include "zoom/zoom_errors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

namespace h2r {
namespace {

constexpr std::chrono::milliseconds k_max_margin{5 * 60'000};
constexpr std::chrono::milliseconds k_default_lifetime{3600'000};
constexpr std::chrono::milliseconds k_max_token_lifetime{24 * 3600'000};

Secret basic_auth(const OAuthCredentials& c) {
  std::string clear = c.client_id + ":" + c.client_secret.reveal();
  std::string out(4 * ((clear.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clear.data()), static_cast<int>(clear.size()));
  out.resize(static_cast<std::size_t>(n));
  Secret cleared{std::move(clear)};  // wiped on destruction
  return Secret("Basic " + out);
}

Error token_refusal(const HttpResponse& response, SystemTime now) {
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  std::string code = body.is_object() && body.value("error", nlohmann::json()).is_string()
                         ? server_text(truncate_utf8(body["error"].get<std::string>(), 100)) : std::string();
  std::string detail = zoom_error_detail(response.body);
  Error error{ErrorKind::permanent, "", response.status, code};
  if (code == "invalid_client") {
    error.message = "Zoom refused the client id or client secret (invalid_client): check the "
                    "Server-to-Server OAuth app's credentials";
    error.reason = ErrorReason::token_refused;
  } else if (code == "unsupported_grant_type") {
    error.message = "Zoom refused the grant type (unsupported_grant_type): the app must be a "
                    "Server-to-Server OAuth app";
    error.reason = ErrorReason::token_refused;
  } else if (response.status == 429 || response.status >= 500) {
    error.kind = ErrorKind::transient;
    error.retry_at = parse_retry_after(response.header("Retry-After"), now);
    error.message = "token request: Zoom answered " + std::to_string(response.status);
  } else {
    error.message = "token request refused: Zoom answered " + std::to_string(response.status) +
                    (detail.empty() ? "" : " \"" + detail + "\"");
  }
  return error;
}

// Visible ASCII only (0x21..0x7E): what a header value can carry without a space, a control
// character or a byte another hop may read differently.
bool is_visible_ascii(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

} // namespace

Result<TokenAnswer> parse_token_answer(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return fail(ErrorKind::transient, "token request: Zoom's answer is not a JSON object");
  auto it = json.find("access_token");
  if (it == json.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    return fail(ErrorKind::transient, "token request: Zoom's answer has no access_token");
  Secret token(std::move(it->get_ref<std::string&>()));
  if (token.reveal().size() > k_max_access_token_bytes)
    return fail(ErrorKind::transient, "token request: Zoom's access_token is " + std::to_string(token.reveal().size()) +
                                          " bytes, more than the " + std::to_string(k_max_access_token_bytes) +
                                          " h2r accepts: not used");
  if (!is_visible_ascii(token.reveal()))
    return fail(ErrorKind::transient, "token request: Zoom's access_token has characters a bearer token may not have "
                                      "(only visible ASCII: a CR or LF would smuggle header lines, a space or "
                                      "control character break the header): not used");
  TokenAnswer answer{std::move(token), k_default_lifetime};
  // Zoom says 3600; a larger or absurd value (1e18) is clamped rather than overflowing the clock.
  if (auto e = json.find("expires_in"); e != json.end() && e->is_number() && e->get<double>() > 0)
    answer.lifetime = seconds_to_ms_clamped(e->get<double>(), k_max_token_lifetime);
  return answer;
}

TokenCache::TokenCache(HttpTransport& transport, const Clock& clock) : m_transport(transport), m_clock(clock) {}

std::chrono::milliseconds TokenCache::refresh_margin(std::chrono::milliseconds lifetime) {
  return std::min(lifetime / 10, k_max_margin);
}

std::shared_ptr<TokenCache::Entry> TokenCache::entry(const std::string& key) {
  MutexLock lock(m_mutex);
  auto& e = m_entries[key];
  if (!e) e = std::make_shared<Entry>();
  return e;
}

int TokenCache::waiting(const std::string& key) { return entry(key)->waiting.load(); }

void TokenCache::wait_for_fetch(Entry& e) {
  if (!e.fetching) return;
  ++e.waiting;
  while (e.fetching) e.fetched.wait(e.mutex);
  --e.waiting;
}

Result<Secret> TokenCache::get(const std::string& key, const OAuthCredentials& credentials) {
  auto e = entry(key);
  MutexLock lock(e->mutex);
  for (;;) {
    wait_for_fetch(*e);
    if (!e->token.empty() && m_clock.now() < e->refresh_at) return e->token;
    if (!e->fetching) break;
  }
  e->fetching = true;
  const Secret stale = e->token;
  lock.unlock();
  const SystemTime sent_at = m_clock.now();
  auto answer = fetch(credentials, stale);
  lock.lock();
  e->fetching = false;
  e->fetched.notify_all();
  if (answer) {
    const std::chrono::milliseconds lifetime = answer->lifetime;
    e->token = std::move(answer->access_token);
    // Lifetime counts from when the request was sent: the server's clock started no earlier.
    e->refresh_at = add_ms_saturating(sent_at, lifetime - refresh_margin(lifetime));
    ++e->fetches;
  }
  Secret token = answer ? e->token : Secret();
  lock.unlock();
  if (!answer) return unexpected(std::move(answer).error());
  return token;
}

Result<TokenAnswer> TokenCache::fetch(const OAuthCredentials& credentials, const Secret& stale) {
  HttpRequest request;
  request.method = "POST";
  request.url = credentials.oauth_url + (credentials.oauth_url.find('?') == std::string::npos ? "?" : "&") +
                "grant_type=account_credentials&account_id=" + percent_encode(credentials.account_id);
  request.headers = {{"Authorization", basic_auth(credentials).reveal()}, {"Accept", "application/json"}};
  request.content_type = "application/x-www-form-urlencoded";
  request.max_answer_bytes = k_max_token_answer_bytes;
  auto response = send_from_fiber(m_transport, request);   // a fiber gives its thread back meanwhile
  if (!response) {
    Error error = response.error();
    error.message = "token request: " + server_text(error.message);
    return unexpected(std::move(error));
  }
  if (response->status != 200) {
    // A refusal may echo what was sent: nothing of the credentials reaches a message, log or store.
    const std::string basic = request.headers[0].second;
    response->body = scrub_secrets(std::move(response->body),
                                   {credentials.client_secret.reveal(), basic, basic.substr(basic.find(' ') + 1),
                                    stale.reveal()});
    return unexpected(token_refusal(*response, m_clock.now()));
  }
  return parse_token_answer(response->body);
}

void TokenCache::invalidate(const std::string& key, const Secret& stale) {
  auto e = entry(key);
  MutexLock lock(e->mutex);
  if (e->token == stale) e->token = Secret();   // a fetch in flight brings a newer one anyway
}

void TokenCache::forget(const std::string& key) {
  auto e = entry(key);
  MutexLock lock(e->mutex);
  wait_for_fetch(*e);   // a fetch in flight used the old credentials: its token goes too
  e->token = Secret();
}

long long TokenCache::fetch_count(const std::string& key) const {
  MutexLock lock(m_mutex);
  auto it = m_entries.find(key);
  return it == m_entries.end() ? 0 : it->second->fetches.load();
}

long long TokenCache::total_fetches() const {
  MutexLock lock(m_mutex);
  long long total = 0;
  for (const auto& [key, e] : m_entries) total += e->fetches;
  return total;
}

} // namespace h2r
