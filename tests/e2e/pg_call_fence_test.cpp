// Issue 25 case 1 on PostgreSQL: two `h2rd run` daemons on one database, `scheduler.claim_lease: 10s`.
// Daemon A works on 40 terminates against a slow account and freezes while it holds their claims —
// stopped with SIGSTOP, or its database connection stalls (a proxy in the test holds back the
// server's answers for longer than the lease, so a query A sent before the stall is answered "your
// claim holds" long after it stopped being true). B rescues the claims, finishes the terminates, and
// then applies rehires of the same employees. When A wakes, it sends no call for any of those users
// (counted at zoom-sim, per user id), and every Zoom user's active flag is what the store says: active
// after its rehire. Before the fence, A's batch deactivated the rehired users again.
//
// Needs a PostgreSQL server (pg_virtualenv, as scripts/test runs the "pg …" cases); skips without one.
#include "lifecycle_util.hpp"
#include "resilience_helpers.hpp"
#include "support/scratch_pg.hpp"
#include "support/stall_proxy.hpp"
#include "support/test_paths.hpp"

#include <fmt/format.h>

#include <csignal>
#include <set>

namespace h2r::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int k_users = 40;
// The start of the SQL text of PgStore::claim_holds (lib/store/pg/pg_store_events.cpp).
constexpr const char* k_claim_question = "SELECT 1 FROM events WHERE id = $1 AND claim_token = $2";

std::string events_json(const std::string& prefix, const std::string& type) {
  std::string out = "[";
  for (int i = 1; i <= k_users; ++i) {
    if (i > 1) out += ",";
    out += event_json(prefix + std::to_string(i), type, employee("E" + std::to_string(i), "P" + std::to_string(i), "Res"));
  }
  return out + "]";
}

// One zoom-sim, and daemons A (index 0) and B (1) with their own config and inbox on one database; A
// reaches it through `a_port` when that is not 0 (the stall proxy).
class TwoDaemons {
public:
  TwoDaemons(const ScratchDatabase& db, int a_port) {
    m_dir.write("rules.yaml", spec_rules_with("lifecycle:\n  guard: { max_deactivations_per_cycle: 1000 }\n"));
    for (int d = 0; d < 2; ++d) {
      const std::string name = d == 0 ? "a" : "b";
      m_dir.write(name + "/inbox/.keep", "");
      m_configs.push_back(
          m_dir.write(name + "/h2rd.yaml", pg_daemon_config(db.url(d == 0 ? a_port : 0))).string());
    }
    auto r = h2rd(1, {"connection", "add", "zoom-main", "--account-id", m_sim.account_id(), "--client-id",
                      m_sim.client_id(), "--client-secret-stdin", "--oauth-url", m_sim.oauth_url(), "--api-url",
                      m_sim.api_url(), "--rate-limit", "1000"},
                  m_sim.secret().reveal() + "\n");
    if (r.exit_code != 0) throw std::runtime_error("connection add failed: " + r.err);
  }

  ProcessResult h2rd(int d, const std::vector<std::string>& args, std::string_view stdin_text = {}) const {
    std::vector<std::string> argv = {h2rd_path(), "-c", m_configs[static_cast<std::size_t>(d)]};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, stdin_text, {}, 120s);
  }
  std::unique_ptr<ChildProcess> start(int d) const {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{h2rd_path(), "-c", m_configs[static_cast<std::size_t>(d)], "run"});
  }
  void drop(int d, const std::string& name, const std::string& content) {
    const std::string inbox = d == 0 ? "a/inbox/" : "b/inbox/";
    m_dir.write(inbox + name + ".tmp", content);
    std::filesystem::rename(m_dir.path() / (inbox + name + ".tmp"), m_dir.path() / (inbox + name));
  }
  json events() const {
    auto r = h2rd(1, {"events", "list", "--limit", "100000", "--json"});
    auto j = json::parse(r.out, nullptr, false);
    return j.is_array() ? j : json::array();
  }
  // How many events of `type` are done.
  int done(const std::string& type) const {
    int n = 0;
    for (const auto& e : events()) n += e["type"] == type && e["state"] == "done";
    return n;
  }
  SimProcess& sim() { return m_sim; }

private:
  TempDir m_dir;
  SimProcess m_sim;
  std::vector<std::string> m_configs;
};

// Changing requests (not GET) on the users' own paths, per path, as zoom-sim logged them.
std::map<std::string, int> changes_by_path(SimProcess& sim) {
  const json log = sim.requests();
  REQUIRE(log["dropped"] == 0);
  std::map<std::string, int> out;
  for (const auto& r : log["requests"]) {
    const auto method = r["method"].get<std::string>();
    if (method != "GET" && r["path"].get<std::string>().find("/Users/") != std::string::npos) ++out[r["path"]];
  }
  return out;
}

int total(const std::map<std::string, int>& by_path) {
  int n = 0;
  for (const auto& [path, count] : by_path) n += count;
  return n;
}

// The whole story; `freeze`/`thaw` stop and resume daemon A (the daemon process, or its connection).
void run_case(TwoDaemons& c, const std::function<void(ChildProcess&)>& freeze,
              const std::function<void(ChildProcess&)>& thaw) {
  // 40 active users, hired by B at full speed; then the account slowed to 5 requests/s.
  auto b = c.start(1);
  c.drop(1, "hires.json", hires_json(k_users));
  REQUIRE_MESSAGE(eventually([&] { return c.done("hire") == k_users; }, 120s), b->err());
  REQUIRE(b->stop() == 0);
  REQUIRE(c.h2rd(1, {"connection", "update", "zoom-main", "--rate-limit", "5"}).exit_code == 0);

  // A takes the terminates and is frozen once it has deactivated the first users.
  auto a = c.start(0);
  const int before_terms = total(changes_by_path(c.sim()));
  c.drop(0, "terms.json", events_json("t-", "terminate"));
  REQUIRE_MESSAGE(eventually([&] { return total(changes_by_path(c.sim())) >= before_terms + 2; }, 60s), a->err());
  freeze(*a);

  // B rescues A's claims once their lease ran out, finishes the terminates, then rehires everyone.
  b = c.start(1);
  REQUIRE_MESSAGE(eventually([&] { return c.done("terminate") == k_users; }, 120s), b->err());
  c.drop(1, "rehires.json", events_json("r-", "rehire"));
  REQUIRE_MESSAGE(eventually([&] { return c.done("rehire") == k_users; }, 120s), b->err());
  REQUIRE(b->stop() == 0);
  CHECK(b->err().find("claims.rescued") != std::string::npos);
  const auto before_thaw = changes_by_path(c.sim());

  // A wakes. A new hire dropped into its own inbox is done only after the cycle that held the stale
  // batch ended: then A has done whatever it was going to do with that batch.
  thaw(*a);
  c.drop(0, "probe.json", hires_json(1, 1000));
  REQUIRE_MESSAGE(eventually([&] { return c.done("hire") == k_users + 1; }, 120s), a->err());
  a->stop();
  INFO("daemon A: " << a->err().substr(0, 20000));

  // 0 calls from A on any of the 40 users after it woke, and every user active, as the store says.
  const auto after = changes_by_path(c.sim());
  int stale = 0;
  for (const auto& [path, count] : after) {
    auto it = before_thaw.find(path);
    stale += count - (it == before_thaw.end() ? 0 : it->second);
  }
  const json probe = c.sim().users();
  int probe_calls = 0;   // the probe hire's own calls, on its own user
  for (const auto& u : probe)
    if (u["userName"] == hire_email(1000))
      for (const auto& [path, count] : after)
        if (path.find(u["id"].get<std::string>()) != std::string::npos) probe_calls += count;
  CHECK(stale - probe_calls == 0);
  for (int i = 1; i <= k_users; ++i) {
    int active = 0, users = 0;
    for (const auto& u : probe)
      if (u["userName"] == hire_email(i)) {
        ++users;
        active += u["active"] == true;
      }
    CHECK_MESSAGE((users == 1 && active == 1), hire_email(i) << " users=" << users << " active=" << active);
  }
}

} // namespace

TEST_CASE("pg call fence: a daemon frozen with SIGSTOP past its lease sends no call for the events another "
          "daemon rescued and the employees' later events" * doctest::test_suite("threads")) {
  if (!pg_server_named()) {
    MESSAGE("SKIPPED (store): no PostgreSQL server (PGHOST unset); scripts/test runs this inside pg_virtualenv");
    return;
  }
  ScratchDatabase db;
  TwoDaemons c(db, 0);
  run_case(c, [](ChildProcess& a) { a.send_signal(SIGSTOP); }, [](ChildProcess& a) { a.send_signal(SIGCONT); });
}

TEST_CASE("pg call fence: a daemon whose database answers stall past its lease sends no call for the events "
          "another daemon rescued and the employees' later events" * doctest::test_suite("threads")) {
  if (!pg_server_named()) {
    MESSAGE("SKIPPED (store): no PostgreSQL server (PGHOST unset); scripts/test runs this inside pg_virtualenv");
    return;
  }
  ScratchDatabase db;
  StallProxy proxy(db.host(), db.port());
  TwoDaemons c(db, proxy.port());
  // The stall lands right after A asked whether a claim still holds (the fence's question): the
  // database answers "yes" at once, and A reads that answer only after B took the claim over.
  run_case(c,
           [&](ChildProcess&) {
             proxy.stall_answers_after(k_claim_question);
             REQUIRE(eventually([&] { return proxy.stalled(); }, 60s));
           },
           [&](ChildProcess&) { proxy.stall_answers(false); });
}

} // namespace h2r::test
