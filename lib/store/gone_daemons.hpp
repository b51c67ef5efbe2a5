// How long the daemons table remembers a daemon that died without a clean stop (no
// Store::remove_daemon): `h2rd status` shows it as gone until then (lib/ops/liveness.hpp).
#pragma once

namespace h2r {

// Seven days after its last heartbeat (a crash on Friday evening is still listed on Monday); the next
// heartbeat of any daemon removes older rows (Store::heartbeat).
inline constexpr long long k_gone_daemon_kept_ms = 7LL * 24 * 3600'000;

} // namespace h2r
