#include "store/sqlite/sqlite_migrations.hpp"

#include <fmt/format.h>

#include <array>

namespace h2r::sqlite {

namespace {

// Open events are the ones not final: pending, waiting and held. The partial indexes below are used
// only when a query repeats their WHERE clause word for word (sqlite_store_events.cpp does).
constexpr const char* k_step_1 = R"sql(
CREATE TABLE connections (
  name          TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL,
  client_id     TEXT NOT NULL,
  secret_blob   BLOB NOT NULL,
  oauth_url     TEXT NOT NULL,
  api_url       TEXT NOT NULL,
  rate_limit    REAL NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE connection_health (
  name               TEXT PRIMARY KEY REFERENCES connections(name) ON DELETE CASCADE ON UPDATE CASCADE,
  healthy            INTEGER NOT NULL,
  last_error         TEXT NOT NULL,
  last_error_at_ms   INTEGER NOT NULL,
  last_success_at_ms INTEGER NOT NULL,
  paused_until_ms    INTEGER NOT NULL,
  pause_reason       TEXT NOT NULL
);
CREATE TABLE events (
  id              INTEGER PRIMARY KEY,
  event_id        TEXT NOT NULL UNIQUE,
  type            TEXT NOT NULL,
  leave_type      TEXT,
  employee_id     TEXT NOT NULL,
  fields          TEXT NOT NULL,
  effective_raw   TEXT NOT NULL,
  effective_at_ms INTEGER NOT NULL,
  due_at_ms       INTEGER NOT NULL,
  source_file     TEXT NOT NULL,
  state           TEXT NOT NULL,
  reason          TEXT NOT NULL,
  attempts        INTEGER NOT NULL,
  approved        INTEGER NOT NULL,
  rules_version   TEXT NOT NULL,
  result          TEXT NOT NULL,
  received_at_ms  INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL
);
CREATE INDEX events_due ON events(due_at_ms, id) WHERE state IN ('pending', 'waiting');
CREATE INDEX events_open_by_employee ON events(employee_id, effective_at_ms, id)
  WHERE state IN ('pending', 'waiting', 'held');
CREATE INDEX events_by_employee ON events(employee_id, id);
CREATE INDEX events_by_state ON events(state, id);
CREATE TABLE employees (
  employee_id   TEXT PRIMARY KEY,
  record        TEXT NOT NULL,
  status        TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE links (
  connection    TEXT NOT NULL REFERENCES connections(name) ON DELETE CASCADE ON UPDATE CASCADE,
  employee_id   TEXT NOT NULL,
  zoom_user_id  TEXT NOT NULL,
  user_name     TEXT NOT NULL,
  pushed_digest TEXT NOT NULL,
  active        INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (connection, employee_id)
);
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

// Version 2: the field names HR has sent (for rules validation), backfilled from the events already
// stored, and the lookup of a link by Zoom user id (reconcile).
constexpr const char* k_step_2 = R"sql(
CREATE TABLE fields_seen (
  name TEXT PRIMARY KEY
) WITHOUT ROWID;
INSERT OR IGNORE INTO fields_seen(name)
  SELECT DISTINCT f.key FROM events, json_each(events.fields) AS f;
CREATE INDEX links_by_zoom_user ON links(connection, zoom_user_id);
)sql";

// Version 3: claims. Before any Zoom call the engine claims an event: claim_owner says which process
// (host:pid:random), claim_token fences its writes (an outcome is stored only while the token still
// matches), lease_until_ms is when another claimer may take the event over (a crashed owner). NULL
// token = unclaimed. An operator's reject/approve/retry clears the claim, so they win over an outcome
// in flight.
constexpr const char* k_step_3 = R"sql(
ALTER TABLE events ADD COLUMN claim_owner TEXT;
ALTER TABLE events ADD COLUMN claim_token TEXT;
ALTER TABLE events ADD COLUMN claimed_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_claimed ON events(claim_owner) WHERE claim_token IS NOT NULL;
)sql";

// Version 4: a connection may use http:// to a non-loopback host only when added or updated with
// --allow-insecure-http (the client secret would travel in clear); existing connections: no.
constexpr const char* k_step_4 = R"sql(
ALTER TABLE connections ADD COLUMN allow_insecure_http INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 5: each event's state changes with who and why (the audit history of `h2rd events show`).
// from_state NULL: the event arrived. Events stored before this version have no history rows.
constexpr const char* k_step_5 = R"sql(
CREATE TABLE event_history (
  seq        INTEGER PRIMARY KEY,
  event      INTEGER NOT NULL,
  at_ms      INTEGER NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  actor      TEXT NOT NULL,
  reason     TEXT NOT NULL
);
CREATE INDEX event_history_by_event ON event_history(event, seq);
)sql";

// Version 6: what h2r last pushed per link, for old → new diffs, clearing and group removal.
// pushed_body is the JSON text of the whole SCIM body last sent (NULL: unknown, links from before this
// version), pushed_groups a JSON array of {"name","id"} of the groups h2r itself added the user to.
constexpr const char* k_step_6 = R"sql(
ALTER TABLE links ADD COLUMN pushed_body TEXT;
ALTER TABLE links ADD COLUMN pushed_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE links ADD COLUMN pushed_groups TEXT NOT NULL DEFAULT '[]';
)sql";

// Version 7: several daemons. `daemons` holds each live `h2rd run` (its claim owner) and its last
// heartbeat; `leader` is the one leader lease row (id 1) for the singletons (resync queueing, alerts);
// `guard_windows` counts the deactivations run in each guard window across daemons. events.rescues
// counts the take-overs of an event from a claimer whose lease ran out, since its last outcome.
constexpr const char* k_step_7 = R"sql(
CREATE TABLE daemons (
  owner           TEXT PRIMARY KEY,
  host            TEXT NOT NULL,
  pid             INTEGER NOT NULL,
  version         TEXT NOT NULL,
  started_at_ms   INTEGER NOT NULL,
  heartbeat_at_ms INTEGER NOT NULL
);
CREATE TABLE leader (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  owner          TEXT NOT NULL,
  lease_until_ms INTEGER NOT NULL
);
CREATE TABLE guard_windows (
  window_start_ms INTEGER PRIMARY KEY,
  deactivations   INTEGER NOT NULL
);
ALTER TABLE events ADD COLUMN rescues INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 8: pacing shared by the daemons (Store::take_pace_grant; on SQLite only two stores on one
// file, as the tests run several daemons): each connection's next free slot, in µs since the epoch.
constexpr const char* k_step_8 = R"sql(
CREATE TABLE pace (
  connection TEXT PRIMARY KEY,
  tat_us     INTEGER NOT NULL
);
)sql";

// Version 9: events_open_by_employee's WHERE as comparisons joined by OR. The same set of rows, but
// SQLite evaluates a constant IN list of three or more values through a temporary b-tree, built again
// by every statement that writes an events row (each ingest INSERT, each outcome's UPDATE): two page
// allocations and zeroings per row. Queries that use the index repeat this WHERE word for word.
constexpr const char* k_step_9 = R"sql(
DROP INDEX events_open_by_employee;
CREATE INDEX events_open_by_employee ON events(employee_id, effective_at_ms, id)
  WHERE state = 'pending' OR state = 'waiting' OR state = 'held';
)sql";

// Version 10: one employee per Zoom user. A Zoom user (per connection) is linked to at most one
// employee: a unique key on (connection, zoom_user_id). Older databases may hold links of several
// employees to one Zoom user (an address taken over by a second hire): they are kept and marked
// `shared` with their rank among that user's links (1, 2, …; 0 = not shared), and the key is
// (connection, zoom_user_id, max(shared - 1, 0)): the first of them holds the place of a plain link,
// so no new employee can join them, and the engine holds their events as conflicts until an operator
// approves one (lib/engine/engine_cycle.cpp). A link written with another Zoom user id loses the mark.
// links_by_user_name serves the lookup by userName, ignoring ASCII case.
constexpr const char* k_step_10 = R"sql(
ALTER TABLE links ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
UPDATE links SET shared = 1 + (
  SELECT count(*) FROM links AS other WHERE other.connection = links.connection
    AND other.zoom_user_id = links.zoom_user_id AND other.employee_id < links.employee_id)
  WHERE EXISTS (
  SELECT 1 FROM links AS other WHERE other.connection = links.connection
    AND other.zoom_user_id = links.zoom_user_id AND other.employee_id <> links.employee_id);
CREATE UNIQUE INDEX links_one_employee_per_zoom_user ON links(connection, zoom_user_id, max(shared - 1, 0));
CREATE INDEX links_by_user_name ON links(connection, user_name COLLATE NOCASE);
)sql";

// Version 11: the guard as a budget over time (Store::reserve_guard). `guard_sets` holds each set of
// changes that took things away (an inbox file, a rules edit's resync) with when it was decided, the
// places it reserved and whether it was refused; the fixed windows of version 7 go.
constexpr const char* k_step_11 = R"sql(
DROP TABLE guard_windows;
CREATE TABLE guard_sets (
  set_key TEXT PRIMARY KEY,
  at_ms   INTEGER NOT NULL,
  count   INTEGER NOT NULL,
  refused INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX guard_sets_by_time ON guard_sets(at_ms);
)sql";

// Version 12: userName reservations (Store::reserve_user_name). One row per login an employee holds in
// a connection: the key (the userName folded) belongs to one employee, and an employee holds one key.
// Links from before have none; the lookup of links by userName still covers them.
constexpr const char* k_step_12 = R"sql(
CREATE TABLE user_names (
  connection  TEXT NOT NULL REFERENCES connections(name) ON DELETE CASCADE ON UPDATE CASCADE,
  name_key    TEXT NOT NULL,
  user_name   TEXT NOT NULL,
  employee_id TEXT NOT NULL,
  at_ms       INTEGER NOT NULL,
  PRIMARY KEY (connection, name_key)
);
CREATE UNIQUE INDEX user_names_by_employee ON user_names(connection, employee_id);
)sql";

// Version 13: why a connection is paused, as code reads it (PauseKind in lib/store/store.hpp), beside the
// pause_reason written for people. Rows from before carry only the words: the daily-limit ones, the one
// kind a restart restores, are recognised once here by the words every earlier version wrote.
constexpr const char* k_step_13 = R"sql(
ALTER TABLE connection_health ADD COLUMN pause_kind TEXT NOT NULL DEFAULT '';
UPDATE connection_health SET pause_kind = 'daily_limit' WHERE pause_reason LIKE 'daily limit%';
)sql";

// Version 14: the history by time, for Store::outcomes_by_hour (the console's chart of the day).
constexpr const char* k_step_14 = R"sql(
CREATE INDEX event_history_by_time ON event_history(at_ms);
)sql";

// Version 15: the links of one employee, in every connection (SqliteStore::plan_inputs reads them once per
// event, not once per event and connection: a daemon of hundreds of connections planned in O(events x
// connections) lookups).
constexpr const char* k_step_15 = R"sql(
CREATE INDEX links_by_employee ON links(employee_id);
)sql";

constexpr std::array<const char*, 15> k_steps = {k_step_1,  k_step_2,  k_step_3,  k_step_4,  k_step_5,
                                                 k_step_6,  k_step_7,  k_step_8,  k_step_9,  k_step_10,
                                                 k_step_11, k_step_12, k_step_13, k_step_14, k_step_15};

Result<int> user_version(Db& db) {
  auto query = H2R_TRY(db.query("PRAGMA user_version"));
  if (!H2R_TRY(query.step())) return 0;
  return static_cast<int>(query.int_at(0));
}

Unexpected<Error> with_file(Db& db, const std::string& what, Error error) {
  error.message = fmt::format("database {}: {}: {}", db.path(), what, error.message);
  return unexpected(std::move(error));
}

} // namespace

int schema_version() { return static_cast<int>(k_steps.size()); }

Result<void> migrate(Db& db, int target) {
  if (target < 0 || target > schema_version()) target = schema_version();
  auto current = user_version(db);
  if (!current) return with_file(db, "cannot read the schema version", std::move(current).error());
  if (*current > schema_version())
    return fail(ErrorKind::permanent,
                fmt::format("database {} has schema version {}, newer than this build of h2r understands "
                            "(version {}); upgrade h2r or use another database file",
                            db.path(), *current, schema_version()));
  for (int version = *current + 1; version <= target; ++version) {
    auto step = [&]() -> Result<void> {
      auto tx = H2R_TRY(Transaction::begin(db));
      // Another process may have migrated while this one waited for the write lock.
      if (H2R_TRY(user_version(db)) >= version) return {};
      H2R_TRY(db.exec(k_steps[static_cast<std::size_t>(version - 1)]));
      H2R_TRY(db.exec(fmt::format("PRAGMA user_version = {}", version)));
      return tx.commit();
    }();
    if (!step) return with_file(db, fmt::format("cannot migrate to schema version {}", version), std::move(step).error());
  }
  return {};
}

} // namespace h2r::sqlite
