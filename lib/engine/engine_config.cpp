#include "engine/engine_config.hpp"

namespace h2r {

EngineOptions engine_options(const Config& config) {
  EngineOptions options;
  options.time_zone = config.timezone;
  options.max_future_days = config.max_future_days;
  options.workers = config.workers;
  options.max_connection_workers = config.max_connection_workers;
  options.max_attempts = config.max_attempts;
  options.retry_base = config.retry_base;
  options.retry_max = config.retry_max;
  options.claim_lease = config.claim_lease;
  options.threads = config.threads;
  return options;
}

ScimClientOptions scim_client_options(const Config& config) {
  ScimClientOptions options;
  options.create_missing_groups_all = config.zoom_create_missing_groups_all;
  options.create_missing_groups = config.zoom_create_missing_groups;
  return options;
}

} // namespace h2r
