// Daemon: wires the inbox, the rules, the engine and the scheduler loop together for `h2rd run`.
// Signals arrive as commands (request_reload, request_shutdown) from a dedicated thread; the loop acts
// on them between cycles, never inside a signal handler.
#pragma once

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "hr/inbox.hpp"
#include "secrets/secret_box.hpp"
#include "service/rules_holder.hpp"

#include <atomic>

namespace h2r {

class Daemon {
public:
  Daemon(const Config& config, Store& store, const SecretBox& box, HttpTransport& transport, const Clock& clock,
         bool once);

  // Loads the rules; false (with the problems logged) when they are invalid.
  bool start();
  // `run --once`: ingest the inbox, run every due event (waiting out retries, not future dates). Exit code.
  int run_once();
  // `run`: until request_shutdown(). Exit code.
  int run();

  void request_shutdown();
  void request_reload();

  Engine& engine() { return m_engine; }
  RulesHolder& rules() { return m_rules; }

private:
  void reload_now();
  void note_cycle(const CycleReport& report);

  const Config& m_config;
  Store& m_store;
  const Clock& m_clock;
  RulesHolder m_rules;
  ConnectionRegistry m_connections;
  Engine m_engine;
  Inbox m_inbox;
  Shutdown m_shutdown;       // stops everything
  Shutdown m_wake;           // wakes the scheduler early (new file, reload, shutdown)
  std::atomic<bool> m_reload_requested{false};
};

} // namespace h2r
