// TokenCache: one Server-to-Server OAuth token per Zoom connection in the whole process
// (docs/zoom.md: a new token may invalidate the previous one). Thread-safe; a fetch for one
// connection never runs twice at once, and callers for other connections are not held up by it.
#pragma once

#include "core/clock.hpp"
#include "core/fiber.hpp"
#include "core/mutex.hpp"
#include "core/secret.hpp"
#include "zoom/http_transport.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <vector>

namespace h2r {

struct OAuthCredentials {
  std::string account_id;
  std::string client_id;
  Secret client_secret;
  std::string oauth_url;   // e.g. https://zoom.us/oauth/token
};

// A token answer's fields, read without trusting the server.
struct TokenAnswer {
  Secret access_token;
  std::chrono::milliseconds lifetime{3600'000};
};

// The longest access_token h2r takes (Zoom's are about 1 KB; it becomes an HTTP header).
inline constexpr std::size_t k_max_access_token_bytes = 16 * 1024;

// Reads a 200 answer of the token endpoint: an object whose access_token is non-empty visible ASCII
// (0x21..0x7E: no space, CR, LF or other control character) of at most k_max_access_token_bytes, and whose
// expires_in, when a positive number, is its lifetime (clamped to a day; default one hour). Anything
// else is a transient error naming the field and the problem, never the token. Never throws.
Result<TokenAnswer> parse_token_answer(std::string_view body);

class TokenCache {
public:
  TokenCache(HttpTransport& transport, const Clock& clock);

  // A bearer token for connection `key`: the cached one while more than refresh_margin() of its
  // life is left, else a newly fetched one. Errors: permanent for invalid_client,
  // unsupported_grant_type and other refusals (code set to Zoom's `error`), transient for outages.
  Result<Secret> get(const std::string& key, const OAuthCredentials& credentials);

  // Drops the cached token of `key` if it still is `stale` (a token another thread fetched since is kept).
  void invalidate(const std::string& key, const Secret& stale);
  // Drops everything known about `key` (its credentials changed).
  void forget(const std::string& key);

  // Tokens fetched for `key` so far (for tests and metrics).
  long long fetch_count(const std::string& key) const;
  // Callers of get(key) waiting for the one fetch in flight (for tests of the single flight).
  int waiting(const std::string& key);
  long long total_fetches() const;

  // How long before expiry a token is replaced: a tenth of its lifetime, at most five minutes, so a
  // one-hour token is renewed at 55 minutes and a three-second token at 2.7 s.
  static std::chrono::milliseconds refresh_margin(std::chrono::milliseconds lifetime);

private:
  // The single flight of one connection: one caller fetches with no lock held (so a fiber may give its
  // thread back while the answer comes, core/fiber.hpp); the others wait for it, a fiber suspended and
  // a thread on `fetched`, and then take its token (or, if it failed, the next of them fetches).
  struct Entry {
    Mutex mutex;
    Secret token H2R_GUARDED_BY(mutex);
    SystemTime refresh_at H2R_GUARDED_BY(mutex){};   // replace the token from this moment
    bool fetching H2R_GUARDED_BY(mutex) = false;
    FiberCondition fetched;   // fetching became false (a waiting fiber holds no thread, core/fiber.hpp)
    std::atomic<long long> fetches{0};
    std::atomic<int> waiting{0};   // callers waiting for the fetch in flight
  };
  std::shared_ptr<Entry> entry(const std::string& key);
  // Returns once no fetch of `e` is in flight (at once when none is), holding e.mutex before and after.
  static void wait_for_fetch(Entry& e) H2R_REQUIRES(e.mutex);
  // One request to the token endpoint; `stale` is the token it replaces (scrubbed from a refusal).
  Result<TokenAnswer> fetch(const OAuthCredentials& credentials, const Secret& stale);

  HttpTransport& m_transport;
  const Clock& m_clock;
  mutable Mutex m_mutex;
  std::map<std::string, std::shared_ptr<Entry>> m_entries H2R_GUARDED_BY(m_mutex);
};

} // namespace h2r
