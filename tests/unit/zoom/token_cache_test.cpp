// TokenCache against a FakeTransport and a FakeClock: reuse, early refresh, single flight, invalidation.
#include "fakes/fake_transport.hpp"
#include "core/fiber.hpp"
#include "zoom/token_cache.hpp"
#include "support/eventually.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <thread>
#include <vector>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

OAuthCredentials credentials() {
  return {"acc-1", "cid-1", Secret("very-secret-value-91"), "https://zoom.example/oauth/token"};
}

} // namespace

TEST_CASE("token cache: a token is reused until the refresh margin, then replaced" * doctest::test_suite("threads")) {
  FakeTransport transport;
  FakeClock clock;
  TokenCache cache(transport, clock);
  transport.push("/oauth/token", token_response("t1", 3600));
  transport.push("/oauth/token", token_response("t2", 3600));
  REQUIRE(cache.get("c", credentials()).value().reveal() == "t1");
  clock.advance(3299s);   // margin: a tenth, at most 300 s
  CHECK(cache.get("c", credentials()).value().reveal() == "t1");
  clock.advance(2s);
  CHECK(cache.get("c", credentials()).value().reveal() == "t2");
  CHECK(transport.count("/oauth/token") == 2);
  CHECK(cache.fetch_count("c") == 2);
  // The request: POST with Basic credentials, account id in the query.
  auto request = transport.requests().front();
  CHECK(request.method == "POST");
  CHECK(request.url.find("grant_type=account_credentials&account_id=acc-1") != std::string::npos);
}

TEST_CASE("token cache: a 3-second token is refreshed at about 2.7 s" * doctest::test_suite("threads")) {
  FakeTransport transport;
  FakeClock clock;
  TokenCache cache(transport, clock);
  transport.push("/oauth/token", token_response("t1", 3));
  transport.push("/oauth/token", token_response("t2", 3));
  REQUIRE(cache.get("c", credentials()).value().reveal() == "t1");
  clock.advance(2699ms);
  CHECK(cache.get("c", credentials()).value().reveal() == "t1");
  clock.advance(2ms);
  CHECK(cache.get("c", credentials()).value().reveal() == "t2");
  CHECK(TokenCache::refresh_margin(3000ms) == 300ms);
  CHECK(TokenCache::refresh_margin(3600s) == 300s);
  CHECK(TokenCache::refresh_margin(24h) == 300s);   // capped at five minutes
}

TEST_CASE("token cache: N threads asking at once cause one fetch (single flight)" * doctest::test_suite("threads")) {
  FakeTransport transport;
  FakeClock clock;
  TokenCache cache(transport, clock);
  transport.push_stalled("/oauth/token", token_response("only", 3600));
  transport.push("/oauth/token", token_response("second", 3600));   // taken only if single flight is broken
  constexpr int k_threads = 8;
  std::vector<std::string> got(k_threads);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_threads; ++i)
    threads.emplace_back([&, i] {
      auto token = cache.get("c", credentials());
      got[static_cast<std::size_t>(i)] = token ? token->reveal() : "error";
    });
  REQUIRE(transport.wait_for_requests("/oauth/token", 1, 10s));
  // Every other caller is behind the stalled fetch before it ends: else a late one would find the token
  // cached and the test would pass even without the single flight.
  REQUIRE(eventually([&] { return cache.waiting("c") == k_threads - 1; }, 60s));
  transport.open_gate();
  for (auto& t : threads) t.join();
  for (const auto& g : got) CHECK(g == "only");
  CHECK(transport.count("/oauth/token") == 1);
  CHECK(cache.fetch_count("c") == 1);
}

TEST_CASE("token cache: invalidate drops the token only if it still is the stale one" * doctest::test_suite("threads")) {
  FakeTransport transport;
  FakeClock clock;
  TokenCache cache(transport, clock);
  transport.push("/oauth/token", token_response("t1", 3600));
  transport.push("/oauth/token", token_response("t2", 3600));
  REQUIRE(cache.get("c", credentials()).value().reveal() == "t1");
  cache.invalidate("c", Secret("t0-older"));   // another thread already replaced that one
  CHECK(cache.get("c", credentials()).value().reveal() == "t1");
  CHECK(transport.count("/oauth/token") == 1);
  cache.invalidate("c", Secret("t1"));
  CHECK(cache.get("c", credentials()).value().reveal() == "t2");
  CHECK(transport.count("/oauth/token") == 2);
}

TEST_CASE("token cache: refusals are permanent with Zoom's code, outages are transient" * doctest::test_suite("threads")) {
  struct Case {
    const char* name;
    HttpResponse response;
    ErrorKind kind;
    const char* code;
  };
  const Case cases[] = {
      {"invalid_client", json_response(400, {{"reason", "Invalid client_id or client_secret"}, {"error", "invalid_client"}}),
       ErrorKind::permanent, "invalid_client"},
      {"unsupported_grant_type", json_response(400, {{"reason", "unsupported grant type"}, {"error", "unsupported_grant_type"}}),
       ErrorKind::permanent, "unsupported_grant_type"},
      {"500", json_response(500, {{"message", "oops"}}), ErrorKind::transient, ""},
      {"503", json_response(503, nullptr), ErrorKind::transient, ""},
      {"429", json_response(429, nullptr, {{"Retry-After", "5"}}), ErrorKind::transient, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    FakeTransport transport;
    FakeClock clock;
    TokenCache cache(transport, clock);
    transport.push("/oauth/token", c.response);
    auto token = cache.get("c", credentials());
    REQUIRE_FALSE(token);
    CHECK(token.error().kind == c.kind);
    CHECK(token.error().code == c.code);
    CHECK((token.error().reason == ErrorReason::token_refused) == (c.kind == ErrorKind::permanent));
    if (std::string(c.code) == "invalid_client") CHECK(token.error().message.find("invalid_client") != std::string::npos);
    CHECK(token.error().message.find("very-secret-value-91") == std::string::npos);
    CHECK(cache.fetch_count("c") == 0);
  }
  FakeTransport transport;
  FakeClock clock;
  TokenCache cache(transport, clock);
  transport.push_drop("/oauth/token");
  auto dropped = cache.get("c", credentials());
  REQUIRE_FALSE(dropped);
  CHECK(dropped.error().kind == ErrorKind::transient);
}

TEST_CASE("token cache: a huge expires_in (1e18 s) is clamped to a day, not wrapped into the past" * doctest::test_suite("threads")) {
  FakeTransport transport;
  FakeClock clock;
  TokenCache cache(transport, clock);
  transport.push("/oauth/token", token_response("t1", 1'000'000'000'000'000'000LL));
  transport.push("/oauth/token", token_response("t2", 3600));
  REQUIRE(cache.get("c", credentials()).value().reveal() == "t1");
  clock.advance(1h);
  CHECK(cache.get("c", credentials()).value().reveal() == "t1");   // reused: the lifetime did not wrap
  CHECK(transport.count("/oauth/token") == 1);
  clock.advance(23h);                                                // a day at most (less the margin)
  CHECK(cache.get("c", credentials()).value().reveal() == "t2");
  CHECK(transport.count("/oauth/token") == 2);
}

namespace {

// Answers when the test says so: send_async keeps the call; a blocking send() is refused, as a fiber's
// fetch must not use it.
struct HeldTransport final : HttpTransport {
  std::mutex mutex;
  std::vector<std::pair<std::string, Done>> held;   // url, callback
  int blocking_sends = 0;
  Result<HttpResponse> send(const HttpRequest&) override {
    std::lock_guard lock(mutex);
    ++blocking_sends;
    return unexpected(Error::transient("a blocking send, from a fiber"));
  }
  void send_async(HttpRequest request, Done done) override {
    std::lock_guard lock(mutex);
    held.emplace_back(request.url, std::move(done));
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return held.size();
  }
};

} // namespace

// Issue 30: the engine's workers are fibers on a few threads; one connection's fetch must hold none
// of them, and neither must the callers waiting for it.
TEST_CASE("token cache: on one thread, 8 fibers wait for one fetch while another connection fetches" *
          doctest::test_suite("threads")) {
  HeldTransport transport;
  FakeClock clock;
  TokenCache cache(transport, clock);
  std::vector<std::string> got(9);
  auto d_credentials = credentials();
  d_credentials.account_id = "acc-2";
  {
    FiberPool pool(1);
    for (std::size_t i = 0; i < 9; ++i)
      pool.spawn([&, i] {
        auto token = i < 8 ? cache.get("c", credentials()) : cache.get("d", d_credentials);
        got[i] = token ? token->reveal() : "error: " + token.error().message;
      });
    // Both fetches are out, and c's other 7 callers wait for its fetch: all on the pool's one thread.
    REQUIRE(eventually([&] { return transport.count() == 2 && cache.waiting("c") == 7; }, 60s));
    std::vector<std::pair<std::string, HttpTransport::Done>> held;
    {
      std::lock_guard lock(transport.mutex);
      held = std::move(transport.held);
    }
    for (auto& [url, done] : held) {
      const bool c = url.find("account_id=acc-1") != std::string::npos;
      done(token_response(c ? "token-c" : "token-d", 3600));
    }
  }
  for (std::size_t i = 0; i < 8; ++i) CHECK(got[i] == "token-c");
  CHECK(got[8] == "token-d");
  CHECK(cache.fetch_count("c") == 1);
  CHECK(transport.blocking_sends == 0);
}
