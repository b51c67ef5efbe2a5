// ClockRig: the real Engine, a real SQLite file and real HTTP to zoom-sim, with time moved by the test
// (tests/e2e/lifecycle_clock_test.cpp, tests/e2e/date_order_property_test.cpp).
#pragma once

#include "core/time.hpp"
#include "engine/engine.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"
#include "zoom/curl_transport.hpp"

#include <doctest/doctest.h>

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace h2r::test {

inline SystemTime at(const char* iso) {
  auto t = parse_effective_date(iso, "UTC");
  if (!t) throw std::runtime_error(t.error().message);
  return *t;
}

// One Engine wired to a zoom-sim, its store in a temp folder, and a fake clock.
class ClockRig {
public:
  // Dates resolve in `zone`; `lifecycle` is appended to the rules (a lifecycle: block, or "").
  explicit ClockRig(const std::string& lifecycle, SystemTime start, const std::string& zone = "America/New_York")
      : m_clock(start) {
    spdlog::set_level(spdlog::level::warn);
    auto store = open_sqlite_store((m_dir.path() / "h2r.db").string());
    if (!store) throw std::runtime_error(store.error().message);
    m_store = std::move(*store);
    auto key = SecretKey::from_bytes(std::string(k_secret_key_bytes, 'k'));
    if (!key) throw std::runtime_error(key.error().message);
    m_box = std::make_unique<SecretBox>(std::move(*key));
    ConnectionRow row;
    row.name = "zoom-main";
    row.account_id = m_sim.account_id();
    row.client_id = m_sim.client_id();
    row.secret_blob = *m_box->seal(m_sim.secret(), row.name);
    row.oauth_url = m_sim.oauth_url();
    row.api_url = m_sim.api_url();
    row.rate_limit = 1000;
    if (auto r = m_store->add_connection(row); !r) throw std::runtime_error(r.error().message);
    auto rules = load_rules_text(R"(version: 1
targets:
  - connection: zoom-main
roles:
  - name: staff
    zoom: { user_type: Basic }
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  title: "{job_title}"
)" + lifecycle, "rules.yaml");
    if (!rules) throw std::runtime_error("rules: " + rules.error().front().to_string());
    m_rules = *rules;
    m_registry = std::make_unique<ConnectionRegistry>(*m_store, *m_box, m_transport, m_clock);
    EngineOptions options;
    options.time_zone = zone;
    options.workers = 2;
    options.once = true;
    m_engine = std::make_unique<Engine>(*m_store, *m_registry, [this] { return m_rules; }, options, m_clock);
  }

  FakeClock& clock() { return m_clock; }
  Store& store() { return *m_store; }
  SimProcess& sim() { return m_sim; }
  Engine& engine() { return *m_engine; }

  void ingest(const std::string& file, const std::vector<HrEvent>& events) {
    auto r = m_engine->ingest(file, events);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  }
  std::string state(const std::string& event_id) {
    auto e = m_store->find_event(event_id);
    REQUIRE(e);
    REQUIRE(*e);
    return std::string(to_string((*e)->state));
  }
  // Zoom users named `user_name`.
  std::vector<nlohmann::json> users(const std::string& user_name) {
    std::vector<nlohmann::json> out;
    for (const auto& u : m_sim.users())
      if (u.value("userName", "") == user_name) out.push_back(u);
    return out;
  }

private:
  TempDir m_dir;
  SimProcess m_sim;
  FakeClock m_clock;
  std::unique_ptr<Store> m_store;
  std::unique_ptr<SecretBox> m_box;
  CurlTransport m_transport;
  RulesPtr m_rules;
  std::unique_ptr<ConnectionRegistry> m_registry;
  std::unique_ptr<Engine> m_engine;
};

inline HrEvent hr_event(const std::string& event_id, EventType type, const std::string& employee_id,
                 const std::string& effective, FieldPatch fields = {}) {
  HrEvent e;
  e.event_id = event_id;
  e.type = type;
  e.employee_id = employee_id;
  e.effective_date = effective;
  e.record = 1;
  fields["employee_id"] = employee_id;
  e.fields = std::move(fields);
  return e;
}

} // namespace h2r::test
