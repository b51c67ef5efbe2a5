// Logging setup: spdlog to stderr, as text for people and journald, or as JSON lines for machines.
// Notable lines start with a stable event name ("event.failed", "scim.rate_limited") followed by
// key=value fields, so ops can grep and alert on them.
#pragma once

#include <string>

namespace h2r {

// level: trace debug info warn error critical off; format: text | json. Under systemd
// ($JOURNAL_STREAM set) text lines carry no timestamp of their own: journald adds one.
void init_logging(const std::string& level, const std::string& format);

// A reload of h2rd.yaml: the level and the format of the logger init_logging() made, changed in place
// (no new logger: other threads keep logging through the same one). Thread-safe; before
// init_logging() only the level changes.
void set_log_settings(const std::string& level, const std::string& format);

} // namespace h2r
