// The PostgreSQL schema and its migrations. The tables and columns are those of the SQLite schema
// (lib/store/sqlite/sqlite_migrations.cpp, version 6) with PostgreSQL types, plus what several daemons need. Each
// migration runs in its own transaction with its row in h2r_schema_versions, serialised across
// processes by an advisory lock; a database whose schema is newer than this build is refused.
#include "store/pg/pg_store_impl.hpp"

#include <array>

namespace h2r::pg {

namespace {

// pg_advisory_xact_lock keys: the migrations, and ingest (pg_store_ingest.cpp uses its own).
constexpr long long k_migrate_lock = 0x6832725f6d696772LL; // "h2r_migr"

// Version 1. Times are integer milliseconds (bigint), as the Store interface passes them. An unclaimed
// event has claim_token '' (not NULL): the partial unique index events_one_claim_per_employee is the
// backstop that two daemons never work on one employee at once.
constexpr const char* k_step_1 = R"sql(
CREATE TABLE connections (
  name                TEXT PRIMARY KEY,
  account_id          TEXT NOT NULL,
  client_id           TEXT NOT NULL,
  secret_blob         BYTEA NOT NULL,
  oauth_url           TEXT NOT NULL,
  api_url             TEXT NOT NULL,
  rate_limit          DOUBLE PRECISION NOT NULL,
  created_at_ms       BIGINT NOT NULL,
  updated_at_ms       BIGINT NOT NULL,
  allow_insecure_http BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE connection_health (
  name               TEXT PRIMARY KEY REFERENCES connections(name) ON DELETE CASCADE ON UPDATE CASCADE,
  healthy            BOOLEAN NOT NULL,
  last_error         TEXT NOT NULL,
  last_error_at_ms   BIGINT NOT NULL,
  last_success_at_ms BIGINT NOT NULL,
  paused_until_ms    BIGINT NOT NULL,
  pause_reason       TEXT NOT NULL
);
CREATE TABLE events (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        TEXT NOT NULL UNIQUE,
  type            TEXT NOT NULL,
  leave_type      TEXT,
  employee_id     TEXT NOT NULL,
  fields          TEXT NOT NULL,
  effective_raw   TEXT NOT NULL,
  effective_at_ms BIGINT NOT NULL,
  due_at_ms       BIGINT NOT NULL,
  source_file     TEXT NOT NULL,
  state           TEXT NOT NULL,
  reason          TEXT NOT NULL,
  attempts        INTEGER NOT NULL,
  approved        BOOLEAN NOT NULL,
  rules_version   TEXT NOT NULL,
  result          TEXT NOT NULL,
  received_at_ms  BIGINT NOT NULL,
  updated_at_ms   BIGINT NOT NULL,
  claim_owner     TEXT NOT NULL DEFAULT '',
  claim_token     TEXT NOT NULL DEFAULT '',
  claimed_at_ms   BIGINT NOT NULL DEFAULT 0,
  lease_until_ms  BIGINT NOT NULL DEFAULT 0,
  rescued_from    TEXT NOT NULL DEFAULT '',
  rescues         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_due ON events(due_at_ms, id) WHERE state IN ('pending', 'waiting');
CREATE INDEX events_open_by_employee ON events(employee_id, effective_at_ms, id)
  WHERE state IN ('pending', 'waiting', 'held');
CREATE INDEX events_by_employee ON events(employee_id, id);
CREATE INDEX events_by_state ON events(state, id);
CREATE UNIQUE INDEX events_one_claim_per_employee ON events(employee_id) WHERE claim_token <> '';
CREATE INDEX events_claimed ON events(claim_owner) WHERE claim_token <> '';
CREATE TABLE event_history (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event      BIGINT NOT NULL,
  at_ms      BIGINT NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  actor      TEXT NOT NULL,
  reason     TEXT NOT NULL
);
CREATE INDEX event_history_by_event ON event_history(event, seq);
CREATE TABLE employees (
  employee_id   TEXT PRIMARY KEY,
  record        TEXT NOT NULL,
  status        TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE TABLE links (
  connection    TEXT NOT NULL REFERENCES connections(name) ON DELETE CASCADE ON UPDATE CASCADE,
  employee_id   TEXT NOT NULL,
  zoom_user_id  TEXT NOT NULL,
  user_name     TEXT NOT NULL,
  pushed_digest TEXT NOT NULL,
  active        BOOLEAN NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  pushed_body   TEXT,
  pushed_at_ms  BIGINT NOT NULL DEFAULT 0,
  pushed_groups TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (connection, employee_id)
);
CREATE INDEX links_by_zoom_user ON links(connection, zoom_user_id);
CREATE TABLE fields_seen (
  name TEXT PRIMARY KEY
);
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE daemons (
  owner           TEXT PRIMARY KEY,
  host            TEXT NOT NULL,
  pid             BIGINT NOT NULL,
  version         TEXT NOT NULL,
  started_at_ms   BIGINT NOT NULL,
  heartbeat_at_ms BIGINT NOT NULL
);
CREATE TABLE leader (
  singleton      BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
  owner          TEXT NOT NULL,
  lease_until_ms BIGINT NOT NULL
);
CREATE TABLE deactivation_windows (
  window_start_ms BIGINT PRIMARY KEY,
  count           INTEGER NOT NULL
);
)sql";

// Version 2: pacing shared by the daemons (Store::take_pace_grant): each connection's next free slot
// of its rate-limit schedule, in µs since the Unix epoch.
constexpr const char* k_step_2 = R"sql(
CREATE TABLE pace (
  connection TEXT PRIMARY KEY,
  tat_us     BIGINT NOT NULL
);
)sql";

// Version 3: one employee per Zoom user, as SQLite's version 10 (lib/store/sqlite/sqlite_migrations.cpp):
// a unique key on (connection, zoom_user_id, greatest(shared - 1, 0)); links of several employees to one Zoom
// user that a database already holds are kept and marked with their rank (`shared` 1, 2, …).
// links_by_user_name: the lookup ignoring case.
constexpr const char* k_step_3 = R"sql(
ALTER TABLE links ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
UPDATE links SET shared = 1 + (
  SELECT count(*) FROM links AS other WHERE other.connection = links.connection
    AND other.zoom_user_id = links.zoom_user_id AND other.employee_id < links.employee_id)
  WHERE EXISTS (
  SELECT 1 FROM links AS other WHERE other.connection = links.connection
    AND other.zoom_user_id = links.zoom_user_id AND other.employee_id <> links.employee_id);
CREATE UNIQUE INDEX links_one_employee_per_zoom_user ON links(connection, zoom_user_id, greatest(shared - 1, 0));
CREATE INDEX links_by_user_name ON links(connection, lower(user_name));
)sql";

// Version 4: the guard as a budget over time, as SQLite's version 11 (lib/store/sqlite/sqlite_migrations.cpp).
constexpr const char* k_step_4 = R"sql(
DROP TABLE deactivation_windows;
CREATE TABLE guard_sets (
  set_key TEXT PRIMARY KEY,
  at_ms   BIGINT NOT NULL,
  count   INTEGER NOT NULL,
  refused BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX guard_sets_by_time ON guard_sets(at_ms);
)sql";

// Version 5: userName reservations (Store::reserve_user_name), as SQLite's version 12.
constexpr const char* k_step_5 = R"sql(
CREATE TABLE user_names (
  connection  TEXT NOT NULL REFERENCES connections(name) ON DELETE CASCADE ON UPDATE CASCADE,
  name_key    TEXT NOT NULL,
  user_name   TEXT NOT NULL,
  employee_id TEXT NOT NULL,
  at_ms       BIGINT NOT NULL,
  PRIMARY KEY (connection, name_key)
);
CREATE UNIQUE INDEX user_names_by_employee ON user_names(connection, employee_id);
)sql";

// Version 6: the pause's kind beside its words, as SQLite's version 13 (lib/store/sqlite/sqlite_migrations.cpp).
constexpr const char* k_step_6 = R"sql(
ALTER TABLE connection_health ADD COLUMN pause_kind TEXT NOT NULL DEFAULT '';
UPDATE connection_health SET pause_kind = 'daily_limit' WHERE pause_reason LIKE 'daily limit%';
)sql";

// Version 7: the history by time, as SQLite's version 14 (Store::outcomes_by_hour).
constexpr const char* k_step_7 = R"sql(
CREATE INDEX event_history_by_time ON event_history(at_ms);
)sql";

// Version 8: the links of one employee, as SQLite's version 15 (PgStore::plan_inputs).
constexpr const char* k_step_8 = R"sql(
CREATE INDEX links_by_employee ON links(employee_id);
)sql";

constexpr std::array<const char*, 8> k_steps = {k_step_1, k_step_2, k_step_3, k_step_4,
                                                k_step_5, k_step_6, k_step_7, k_step_8};

constexpr const char* k_versions_table =
    "CREATE TABLE h2r_schema_versions (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL "
    "DEFAULT now())";

} // namespace

int schema_version() { return static_cast<int>(k_steps.size()); }

Result<void> migrate(Conn& conn, int target) {
  if (target < 0 || target > schema_version()) target = schema_version();
  for (;;) {
    auto tx = H2R_TRY(Tx::begin(conn));
    H2R_TRY(conn.exec("SELECT pg_advisory_xact_lock($1)", Params().integer(k_migrate_lock)));
    // Created only when missing: a role without CREATE on the schema may run an up-to-date database.
    auto exists = H2R_TRY(conn.exec("SELECT to_regclass('h2r_schema_versions') IS NOT NULL"));
    if (!exists.boolean(0, 0)) H2R_TRY(conn.exec(k_versions_table));
    auto rows = H2R_TRY(conn.exec("SELECT coalesce(max(version), 0) FROM h2r_schema_versions"));
    const int current = static_cast<int>(rows.integer(0, 0));
    if (current > schema_version())
      return fail(ErrorKind::permanent,
                  fmt::format("the database has schema version {}, newer than this build of h2r understands "
                              "(version {}); upgrade h2r or use another database",
                              current, schema_version()));
    if (current >= target) return tx.commit();
    const int version = current + 1;
    auto step = conn.exec_script(k_steps[static_cast<std::size_t>(version - 1)]);
    if (!step) {
      step.error().message = fmt::format("cannot migrate to schema version {}: {}", version, step.error().message);
      return step;
    }
    H2R_TRY(conn.exec("INSERT INTO h2r_schema_versions (version) VALUES ($1)", Params().integer(version)));
    H2R_TRY(tx.commit());
  }
}

} // namespace h2r::pg
