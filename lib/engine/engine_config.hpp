// The engine's settings from h2rd.yaml, mapped in one place: the daemon builds its Engine from them (a
// daemon and `run --once` alike), and each reload hands them to Engine::apply_options, which adopts
// their live part (EngineLiveOptions). Which keys a reload changes is config/config_diff.cpp's table.
#pragma once

#include "config/config.hpp"
#include "engine/engine.hpp"

namespace h2r {

// The live settings (timezone, limits.max_future_days, scheduler.workers,
// scheduler.max_connection_workers, retry.*) and scheduler.claim_lease, from `config`; every other
// field (hooks, owner, once, batch) keeps EngineOptions' default.
EngineOptions engine_options(const Config& config);

// The SCIM clients' settings from `config` (zoom.create_missing_groups, restart-only); the rest keeps
// ScimClientOptions' default.
ScimClientOptions scim_client_options(const Config& config);

} // namespace h2r
