// The keys of the store's meta table (Store::get_meta / set_meta): one list, so that a writer and its
// readers — often another process (`h2rd status`, the console, `h2rd migrate`) — cannot spell a key two
// ways. Values are text.
#pragma once

namespace h2r {

// Written by `h2rd run` (lib/ops/liveness.hpp): its pid ("" once stopped cleanly), heartbeat and start
// (unix ms), and the address its status server bound ("host:port", "" = off). They describe one process
// on one machine: `h2rd migrate` does not copy them (is_process_meta, lib/store/store_copy.hpp).
inline constexpr const char* k_meta_daemon_pid = "daemon.pid";
inline constexpr const char* k_meta_daemon_heartbeat = "daemon.heartbeat";
inline constexpr const char* k_meta_daemon_started = "daemon.started";
inline constexpr const char* k_meta_metrics_listen = "metrics.listen";
// The settings `h2rd run` runs with and its last reload (lib/ops/config_state.hpp), as JSON.
inline constexpr const char* k_meta_config_running = "config.running";
// When the scheduler's last cycle ended (unix ms).
inline constexpr const char* k_meta_cycle_last = "cycle.last";
// The rules in force (lib/daemon/rules_holder.hpp): their version, the text they were read from (the
// base of the next start's resync), and the last refused file's problems ("" = none).
inline constexpr const char* k_meta_rules_version = "rules.version";
inline constexpr const char* k_meta_rules_text = "rules.text";
inline constexpr const char* k_meta_rules_error = "rules.error";
// "1" once every link's login was reserved (reserve_linked_logins, lib/engine/provisioner.hpp): links
// stored before reservations existed get theirs at the next `h2rd run`. `h2rd migrate` does not copy it,
// so the new database's first run reserves the logins of the links it received.
inline constexpr const char* k_meta_logins_reserved = "logins.reserved";
// The settings the waiting events' due times were computed with (schedule_settings,
// lib/engine/reschedule.hpp): a start or reload under other settings reschedules them.
inline constexpr const char* k_meta_schedule_settings = "schedule.settings";

} // namespace h2r
