#include "service/daemon.hpp"

#include "core/time.hpp"

#include <spdlog/spdlog.h>

#include <thread>

namespace h2r {
namespace {

constexpr std::chrono::milliseconds k_rules_poll{1000};   // how often the rules file is checked for edits

EngineOptions engine_options(const Config& config, bool once) {
  EngineOptions options;
  options.time_zone = config.timezone;
  options.workers = config.workers;
  options.max_attempts = config.max_attempts;
  options.retry_base = config.retry_base;
  options.retry_max = config.retry_max;
  options.once = once;
  return options;
}

} // namespace

Daemon::Daemon(const Config& config, Store& store, const SecretBox& box, HttpTransport& transport, const Clock& clock,
               bool once)
    : m_config(config), m_store(store), m_clock(clock), m_rules(config.rules, &store),
      m_connections(store, box, transport, clock),
      m_engine(store, m_connections, [this] { return m_rules.current(); }, engine_options(config, once), clock),
      m_inbox(InboxOptions{config.inbox, config.max_file_bytes, config.retention_days},
              [this](const std::string& file, const std::vector<HrEvent>& events) {
                auto r = m_engine.ingest(file, events);
                if (r) m_wake.poke();
                return r;
              },
              clock) {}

bool Daemon::start() {
  if (!m_rules.reload("start")) return false;
  if (auto r = m_inbox.prepare(); !r) {
    spdlog::error("inbox.unusable dir={} error=\"{}\"", m_config.inbox, r.error().message);
    return false;
  }
  return true;
}

void Daemon::note_cycle(const CycleReport& report) {
  (void)m_store.set_meta("cycle.last", std::to_string(to_unix_ms(m_clock.now())));
  if (report.processed || report.held)
    spdlog::info("cycle.done processed={} done={} skipped={} failed={} held={} retrying={}", report.processed,
                 report.done, report.skipped, report.failed, report.held, report.retrying);
}

int Daemon::run_once() {
  auto scan = m_inbox.scan();
  spdlog::info("inbox.scanned accepted={} rejected={} deferred={}", scan.accepted, scan.rejected, scan.deferred);
  bool any_failed = false;
  for (;;) {
    CycleReport report = m_engine.run_cycle();
    note_cycle(report);
    any_failed = any_failed || report.failed > 0;
    if (!report.next_retry) break;
    // Wait for the retries this run scheduled — no longer than needed — then go again.
    auto wait = *report.next_retry - m_clock.now();
    if (wait > std::chrono::milliseconds(0)) {
      spdlog::info("cycle.waiting_for_retry seconds={:.1f}", std::chrono::duration<double>(wait).count());
      if (m_shutdown.wait_for(wait)) break;
    }
  }
  return any_failed ? 1 : 0;
}

void Daemon::reload_now() {
  m_reload_requested = false;
  spdlog::info("daemon.reload trigger=SIGHUP");
  m_rules.reload("SIGHUP");
}

int Daemon::run() {
  std::thread inbox_thread([this] { m_inbox.watch(m_shutdown); });
  spdlog::info("daemon.started inbox={} rules={} version={}", m_config.inbox, m_config.rules,
               m_rules.current() ? m_rules.current()->version() : "none");
  auto last_cycle = std::chrono::steady_clock::time_point{};
  while (!m_shutdown.requested()) {
    if (m_reload_requested) reload_now();
    m_rules.reload_if_changed();
    last_cycle = std::chrono::steady_clock::now();
    CycleReport report = m_engine.run_cycle();
    note_cycle(report);
    // Sleep until the next interval tick, a poke (new file, reload), or shutdown — checking the rules
    // file for edits once a second meanwhile.
    auto next_tick = last_cycle + m_config.scheduler_interval;
    if (report.next_retry) {
      auto until_retry = std::chrono::duration_cast<std::chrono::steady_clock::duration>(*report.next_retry - m_clock.now());
      next_tick = std::min(next_tick, std::chrono::steady_clock::now() + std::max(until_retry, std::chrono::steady_clock::duration(0)));
    }
    while (!m_shutdown.requested() && !m_reload_requested) {
      auto left = next_tick - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration(0)) break;
      if (m_wake.wait_poked(std::min<std::chrono::steady_clock::duration>(left, k_rules_poll))) break;
      if (m_rules.reload_if_changed()) break;
    }
  }
  spdlog::info("daemon.stopping");
  m_shutdown.request();
  inbox_thread.join();
  spdlog::info("daemon.stopped");
  return 0;
}

void Daemon::request_shutdown() {
  m_shutdown.request();
  m_wake.request();
}

void Daemon::request_reload() {
  m_reload_requested = true;
  m_wake.poke();
}

} // namespace h2r
