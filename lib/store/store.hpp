// Store: every piece of state h2r keeps — connections, the event queue, employees' last known records,
// and links to Zoom users. The interface is the contract; sqlite_store.hpp is the one implementation and
// the one place SQL lives. Every method is one transaction, so a crash at any instant leaves the
// database at a state some method call produced. Implementations are thread-safe.
#pragma once

#include "core/error.hpp"
#include "hr/event.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace h2r {

// ---- connections -------------------------------------------------------------------------------

struct ConnectionRow {
  std::string name;            // admin's name for it, e.g. "zoom-main"; unique
  std::string account_id;
  std::string client_id;
  std::string secret_blob;     // client secret encrypted by secrets/ (binary); never the clear value
  std::string oauth_url;       // e.g. https://zoom.us/oauth/token
  std::string api_url;         // e.g. https://api.zoom.us/scim2
  double rate_limit = 0;       // requests per second this connection may make
  long long created_at_ms = 0;
  long long updated_at_ms = 0;
  bool allow_insecure_http = false; // http:// URLs to non-loopback hosts allowed (--allow-insecure-http)
};

// Why a connection is paused, as code reads it (the pause_reason beside it is for people and may be
// reworded): a restarted daemon restores a Daily-limit pause, not a circuit breaker's. Stored as the
// text of to_string; a database from before the column reads its daily-limit rows as daily_limit.
enum class PauseKind { none, daily_limit, circuit_open, unhealthy };
std::string_view to_string(PauseKind kind);
PauseKind parse_pause_kind(std::string_view text); // unknown text → none

// What the daemon learned about a connection's health; shown by `h2rd status`.
struct ConnectionHealth {
  std::string name;
  bool healthy = true;
  std::string last_error;           // never contains a secret
  long long last_error_at_ms = 0;
  long long last_success_at_ms = 0;
  long long paused_until_ms = 0;    // rate limit or circuit breaker: no calls before this
  std::string pause_reason;
  PauseKind pause_kind = PauseKind::none;
};

// ---- events -------------------------------------------------------------------------------------

// superseded: a late event (older than an event of the employee already final) whose every change a
// later-dated event overrides; it changed nothing at Zoom (h2r-events(5), Date order).
enum class EventState { pending, waiting, done, skipped, failed, held, rejected, superseded };
// Every state, in the order people read them (status, metrics, the console's filter).
inline constexpr EventState k_event_states[] = {EventState::pending, EventState::waiting,  EventState::held,
                                                EventState::done,    EventState::skipped,  EventState::superseded,
                                                EventState::failed,  EventState::rejected};
// The reason of an event held as a conflict (one Zoom user, two employees; an employee id reused)
// starts with this (h2r-events(5), Conflicts).
inline constexpr std::string_view k_conflict_prefix = "conflict: ";
// The reason of an event the guard holds (h2r-rules(5), lifecycle.guard) starts with this.
inline constexpr std::string_view k_guard_prefix = "guard: ";
// A history note (Store::note_event) starts with this when it lists the Zoom calls a daemon had sent
// for the event before an operator's decision (or another daemon) refused its outcome.
inline constexpr std::string_view k_sent_before_decision = "sent to Zoom before the decision: ";
std::string_view to_string(EventState state);
std::optional<EventState> parse_event_state(std::string_view text);
// done, skipped, superseded, failed and rejected are final; pending, waiting and held are not.
bool is_final(EventState state);

struct EventRow {
  long long id = 0;              // arrival order; stable, shown to people
  std::string event_id;          // HR's id
  EventType type = EventType::hire;
  std::optional<LeaveType> leave_type;
  std::string employee_id;
  FieldPatch fields;             // the employee fields as the event carried them (nulls kept)
  std::string effective_raw;     // as HR wrote it ("" = now)
  long long effective_at_ms = 0; // the resolved instant; orders an employee's events
  long long due_at_ms = 0;       // next moment the event may be attempted (lead days, retries)
  std::string source_file;
  EventState state = EventState::pending;
  std::string reason;            // why skipped/failed/held, or the last transient error while retrying
  int attempts = 0;
  bool approved = false;         // an admin approved it: it is not held again
  std::string rules_version;     // content hash of the rules that decided it
  std::string result;            // JSON text: what was done (audit trail)
  long long received_at_ms = 0;
  long long updated_at_ms = 0;
  // The claim (see Store::claim_due_events); "" token = unclaimed.
  std::string claim_owner;
  std::string claim_token;
  long long claimed_at_ms = 0;
  long long lease_until_ms = 0;
  // Set by claim_due_events only: the owner whose lease had run out when this claim took the event
  // over ("" = the event was not claimed). `rescues` counts such take-overs since the event's last
  // outcome; the engine fails an event rescued too often (a poison pill that kills its daemons).
  std::string rescued_from;
  int rescues = 0;
};

// Who claims and for how long: `owner` names the process ("host:pid:random"), `lease_ms` is how long
// the claim keeps other claimers away (the claimer's own writes stay valid past it until someone
// else claims the event).
struct ClaimRequest {
  std::string owner;
  long long now_ms = 0;
  int limit = 0;
  long long lease_ms = 0;
};

struct NewEvent {
  HrEvent event;
  long long effective_at_ms = 0;
  long long due_at_ms = 0;
  EventState state = EventState::pending; // pending or waiting
};

// A waiting event's times recomputed after the settings that made them changed (timezone,
// lifecycle.hire.lead_days): Store::reschedule_events.
struct EventReschedule {
  long long id = 0;
  long long effective_at_ms = 0;
  long long due_at_ms = 0;
  EventState state = EventState::waiting;   // waiting, or pending when the new due time has come
  std::string reason;                       // its history row's reason
};

inline constexpr std::size_t k_max_duplicates_listed = 100;

struct IngestResult {
  int inserted = 0;
  long long duplicate_count = 0;          // events whose event_id was already stored: ignored
  std::vector<std::string> duplicates;    // the first k_max_duplicates_listed of their event_ids
};

// An event of an ingest whose event_id an earlier event of the same ingest has: not stored.
struct RepeatedEvent {
  std::size_t index = 0;  // in the events given to IngestBatch::add
  int first_record = 0;   // HrEvent::record of that earlier event
};

// One file's events, stored chunk by chunk in one transaction (Store::begin_ingest). Destroyed
// without a successful commit(), it keeps nothing: the transaction is rolled back.
class IngestBatch {
public:
  virtual ~IngestBatch() = default;
  // Stores `events` (each pending or waiting, else invalid). An event_id stored before this ingest
  // is a duplicate: ignored and counted. One an earlier event of this ingest has is returned, not
  // stored (the file holding both is bad). Memory stays bounded whatever the number of events.
  virtual Result<std::vector<RepeatedEvent>> add(const std::vector<NewEvent>& events) = 0;
  virtual Result<IngestResult> commit() = 0;
};

struct EventFilter {
  std::optional<EventState> state;
  std::optional<std::string> employee_id;
  std::optional<EventType> type;
  std::optional<long long> effective_from_ms;   // effective_at_ms >= this
  std::optional<long long> effective_before_ms; // effective_at_ms < this
  std::optional<std::string> source_file;       // the stored name, or its last path component
  std::optional<long long> before_id;           // id < this: the next page of a walk over every event
  int limit = 1000;                       // newest first
};

// Store::outcomes_by_hour's query, the same on both backends ({} = the parameter: ?1 or $1).
inline constexpr const char* k_outcomes_by_hour_sql =
    "SELECT (at_ms / 3600000) * 3600000 AS hour, to_state, count(*) FROM event_history "
    "WHERE at_ms >= {} AND to_state IN ('done', 'skipped', 'superseded', 'failed', 'rejected') "
    "AND (from_state IS NULL OR from_state <> to_state) "
    "GROUP BY hour, to_state ORDER BY hour, to_state";

// Store::outcomes_by_hour: the changes into one final state within one hour.
struct HourlyOutcomes {
  long long hour_ms = 0;                  // the hour's start (UTC, a multiple of 3,600,000)
  EventState state = EventState::done;
  long long count = 0;
};

// One state change of an event, for its audit history. Written in the same transaction as the change.
struct EventHistoryRow {
  long long event = 0;                    // EventRow::id
  long long at_ms = 0;
  std::optional<EventState> from;         // nullopt: the event arrived (ingest)
  EventState to = EventState::pending;
  std::string actor;                      // who: "h2rd" (the daemon), "cli:alice", ...
  std::string reason;
};

// ---- daemons: several `h2rd run` on one database (PostgreSQL) ----------------------------------------

// One employee's claim on a Zoom login (Store::reserve_user_name).
struct UserNameClaim {
  std::string connection;
  std::string key;          // the userName folded (fold_case)
  std::string user_name;    // as the rules give it, for messages
  std::string employee_id;
  long long now_ms = 0;
};

// One request to the guard's budget (Store::reserve_guard).
struct GuardRequest {
  std::string set;        // the set of changes: "<source file>@<received at ms>" (engine/schedule.hpp guard_set)
  long long now_ms = 0;
  long long per_ms = 0;   // the window: a reservation counts until its at_ms + per_ms
  int count = 0;          // the set's changes still to run
  int max = 0;            // lifecycle.guard.max
  // The latest due time among the counted changes (<= now_ms: all due now). The reservation is made at
  // max(now_ms, last_due_ms), so changes that run late in the window still count a whole window after.
  long long last_due_ms = 0;
  // Changes an operator approved: they are reserved (counted against later sets), never refused.
  bool approved = false;
};
struct GuardAnswer {
  bool granted = false;
  int counted = 0;        // places the window held for other sets when this set was decided
  bool decided_before = false;   // the set's decision was made earlier (by this or another daemon)
  long long decided_at_ms = 0;   // the decision's reservation time: a grant holds until decided_at_ms + per_ms
};

struct DaemonRow {
  std::string owner;             // the claim owner, "host:pid:random"; unique
  std::string host;
  long long pid = 0;
  std::string version;           // h2rd's version
  long long started_at_ms = 0;
  long long heartbeat_at_ms = 0;
  int claims = 0;                // list_daemons: events it holds claimed now
  bool leader = false;           // list_daemons: it holds the leader lease now
  long long claims_until_ms = 0; // list_daemons: the latest lease_until_ms of those claims (0: none)
};

// A share of one Zoom connection's rate limit among the daemons on one database: `count` calls, at
// first_us, first_us + interval_us, ... (µs since the Unix epoch), slots of the connection's shared
// schedule that no other daemon was given (Store::take_pace_grant).
struct PaceGrant {
  long long first_us = 0;
  int count = 0;
  long long interval_us = 0;
};

// The bounds take_pace_grant accepts (anything else is `invalid`): an interval of 1 µs to an hour, up
// to 10000 slots a grant, a connection name of up to 200 bytes, a time before the year 10000.
inline constexpr long long k_max_pace_interval_us = 3600LL * 1'000'000;
inline constexpr int k_max_pace_grant = 10000;
inline constexpr std::size_t k_max_pace_name = 200;
inline constexpr long long k_max_pace_time_us = 253402300799LL * 1'000'000;   // 9999-12-31T23:59:59Z
// `invalid`, naming the bad argument, when a take_pace_grant request is outside those bounds.
Result<void> check_pace_request(const std::string& connection, long long from_us, long long interval_us, int count);
// `invalid` when a reserve_guard request has no set (or one above 8 KiB), a negative count or max, or
// no window. The store keeps a week of decisions (k_guard_memory_ms).
Result<void> check_guard_request(const GuardRequest& request);
// `invalid`, naming the field, when a reserve_user_name claim has an empty field or one above 1 KiB
// (the connection name and employee id are bounded far below that where they are made).
Result<void> check_user_name_claim(const UserNameClaim& claim);
// Grants are deleted a week after their reservation time (past any window); refusals are kept 90 days,
// so a refused file's events that fall due later are held too.
inline constexpr long long k_guard_memory_ms = 7LL * 24 * 3'600'000;
inline constexpr long long k_guard_refusal_memory_ms = 90LL * 24 * 3'600'000;
// The rule both backends apply inside their transaction (Store::reserve_guard): `mine` is the set's
// row when it still stands (a grant within the window, or any refusal kept), `others` the places other
// sets' rows hold within the window. `write`: the set's row to store (at_ms, count,
// refused = !answer.granted).
struct GuardSetRow {
  long long at_ms = 0;
  int count = 0;
  bool refused = false;
};
struct GuardDecision {
  GuardAnswer answer;
  bool write = false;
  long long at_ms = 0;
  int count = 0;
};
GuardDecision decide_guard(const GuardRequest& request, const std::optional<GuardSetRow>& mine, long long others);

// ---- employees and links ------------------------------------------------------------------------

enum class HrStatus { unknown, active, on_leave, terminated };
std::string_view to_string(HrStatus status);
std::optional<HrStatus> parse_hr_status(std::string_view text);

struct EmployeeRow {
  std::string employee_id;
  EmployeeRecord record;         // last known record, every update merged in
  HrStatus status = HrStatus::unknown;
  long long updated_at_ms = 0;
};

// A Zoom group h2r itself added a user to (LinkRow::pushed_groups).
struct PushedGroup {
  std::string name;              // displayName, as the rules name it
  std::string id;                // Zoom's group id
  bool operator==(const PushedGroup&) const = default;
};

// One employee's Zoom user in one connection.
struct LinkRow {
  std::string connection;
  std::string employee_id;
  std::string zoom_user_id;
  std::string user_name;
  std::string pushed_digest;     // digest of the attributes last pushed; "" = unknown
  bool active = true;            // what h2r last set
  long long updated_at_ms = 0;
  // The whole SCIM body h2r last sent for this user (a create's body without `active`; an update's
  // body with its clearing values: "" / false / []), or the body Zoom already agreed with when h2r
  // linked an existing user and had nothing to send. Diffs (old → new) and clearing are computed
  // against it. null = unknown: a link stored before schema version 6 (diffs then fall back to Zoom's
  // answer where h2r read one, clearing to the previous HR record under the current rules).
  nlohmann::json pushed_body;
  long long pushed_at_ms = 0;    // when pushed_body was sent or confirmed; 0 = unknown
  // The groups h2r added this user to and has not removed since. A group the user was already in
  // when the rules first gave it (someone else's doing) is not listed, and h2r never removes it.
  std::vector<PushedGroup> pushed_groups;
  // The link shares its Zoom user with another employee's link: a pair from a database older than
  // the one-employee-per-Zoom-user key (SQLite schema version 10, PostgreSQL 3), which marked such
  // pairs instead of failing. The engine holds the employee's events as conflicts until an operator
  // approves one. put_link and outcomes never set it: they keep the stored mark, and clear it when
  // the Zoom user id changes; only ImportBatch::add_links (h2rd migrate) copies it.
  bool shared = false;
};

// The `conflict` a store answers when writing `row` would link its Zoom user to a second employee.
Unexpected<Error> link_taken(const LinkRow& row);

// Everything one processed event changes, written in one transaction.
// What planning an event reads of its employee: the last known record and the links in the connections
// asked for (in their order; a connection without a link is left out).
struct PlanInputs {
  std::optional<EmployeeRow> employee;
  std::vector<LinkRow> links;
};

// The links of one employee (all of its connections, in any order) as PlanInputs holds them: in the order of
// `connections`, those of other connections left out.
std::vector<LinkRow> links_in_order(std::vector<LinkRow> links, const std::vector<std::string>& connections);

struct EventOutcome {
  long long id = 0;                          // EventRow::id
  std::string claim_token;                   // the claim this outcome was worked out under
  EventState state = EventState::done;       // pending (with next_attempt_at_ms) means "retry later"
  std::string reason;
  std::string rules_version;
  std::string result;                        // JSON text
  int attempts = 0;
  long long next_attempt_at_ms = 0;          // for state pending: when to try again
  std::optional<EmployeeRow> employee;       // written when set
  std::vector<LinkRow> links_upsert;
  std::vector<std::pair<std::string, std::string>> links_remove; // (connection, employee_id)
};

// A whole deployment written into an empty store in one transaction (h2rd migrate): every row as
// given, ids and times kept. Destroyed without a successful commit(), it keeps nothing.
class ImportBatch {
public:
  virtual ~ImportBatch() = default;
  virtual Result<void> add_connection(const ConnectionRow& row) = 0;   // sealed secret and times as given
  virtual Result<void> add_connection_health(const ConnectionHealth& health) = 0;
  // Every column as given, the id included; the claim columns are not copied (the event is unclaimed).
  virtual Result<void> add_events(const std::vector<EventRow>& rows) = 0;
  // History rows of events added before, in the order given (after the event's earlier rows).
  virtual Result<void> add_history(const std::vector<EventHistoryRow>& rows) = 0;
  virtual Result<void> add_employees(const std::vector<EmployeeRow>& rows) = 0;
  virtual Result<void> add_links(const std::vector<LinkRow>& rows) = 0;   // pushed_* included
  virtual Result<void> add_seen_fields(const std::set<std::string>& names) = 0;
  virtual Result<void> set_meta(const std::string& key, const std::string& value) = 0;
  // Makes it all visible at once; later ingests get ids above every imported one.
  virtual Result<void> commit() = 0;
};

// Why an operator's `action` ("approve", "reject" or "retry", from the CLI or the console) cannot act on
// event `e` in its state, or "" when it can: retry takes failed events, approve held ones, reject any
// that has not ended. The one rule both front ends apply before calling the store.
std::string event_action_refusal(std::string_view action, const EventRow& e);
// A pending event that a transient error sent back to wait (attempts > 0) and no daemon works on now.
bool waits_to_retry(const EventRow& e);

// What Store::queue_resyncs accepts, for every backend: only `resync` events arriving pending or waiting
// (invalid, naming the first event that is not).
Result<void> check_resync_events(const std::vector<NewEvent>& events);

class Store {
public:
  virtual ~Store() = default;

  // connections — add: conflict when the name exists; update/remove: not_found when it does not.
  // remove also removes that connection's links and health.
  virtual Result<void> add_connection(const ConnectionRow& row) = 0;
  virtual Result<void> update_connection(const ConnectionRow& row) = 0;
  virtual Result<void> remove_connection(const std::string& name) = 0;
  virtual Result<std::optional<ConnectionRow>> get_connection(const std::string& name) = 0;
  virtual Result<std::vector<ConnectionRow>> list_connections() = 0;          // by name
  virtual Result<void> put_connection_health(const ConnectionHealth& health) = 0;
  virtual Result<std::optional<ConnectionHealth>> get_connection_health(const std::string& name) = 0;

  // events — ingest inserts a whole file's events in one transaction; an event_id already stored is
  // not inserted and is reported in duplicates. It also remembers every field name seen.
  // Repeats of an event_id within `events` are duplicates too. The same for every backend: one
  // begin_ingest, one IngestBatch::add, commit (a backend may override it with a faster path).
  virtual Result<IngestResult> ingest(const std::string& source_file, const std::vector<NewEvent>& events,
                                      long long now_ms);
  // Queues h2r's own `resync` events (type resync, pending or waiting) from `source` ("rules:VERSION")
  // in one transaction. An event is not inserted, and its event_id is reported in duplicates, when its
  // event_id is known or its employee already has a resync that is pending, waiting or held.
  // Every backend refuses the same input first: check_resync_events.
  virtual Result<IngestResult> queue_resyncs(const std::string& source, const std::vector<NewEvent>& events,
                                             long long now_ms) = 0;
  // The same, chunk by chunk: begin_ingest, IngestBatch::add per chunk, commit. The batch holds the
  // store's write transaction until it ends: other calls on this store wait for it.
  virtual Result<std::unique_ptr<IngestBatch>> begin_ingest(const std::string& source_file, long long now_ms) = 0;
  // The events that may run now: state pending or waiting, due_at_ms <= now_ms, not claimed under a
  // lease still running, and no earlier event of the same employee (by effective_at_ms, then id) still
  // pending, waiting or held (claimed or not). At most one per employee. Ordered by due_at_ms, then id.
  virtual Result<std::vector<EventRow>> due_events(long long now_ms, int limit) = 0;
  // due_events(now_ms, limit), and in the same transaction each returned event is claimed for
  // `owner`: a fresh random claim_token, claimed_at_ms = now, lease_until_ms = now + lease. Two
  // claimers never get the same event while its lease runs.
  virtual Result<std::vector<EventRow>> claim_due_events(const ClaimRequest& request) = 0;
  // Gives a claim back (the event stays as it was, due again). conflict ("lost claim") when the event
  // is no longer claimed with `claim_token`; not_found when no event has the id.
  virtual Result<void> release_claim(long long id, const std::string& claim_token) = 0;
  // Clears every claim of `owner` ("" = of every owner); returns how many. "" is only for the process
  // that holds the database's single-instance lock, at its start: every claim then belongs to a
  // process that is gone.
  virtual Result<int> release_claims(const std::string& owner) = 0;
  // Whether event `id` is still claimed with `claim_token` and pending or waiting: the proof the engine
  // asks for before each SCIM call that changes something (zoom/call_fence.hpp). False once an operator
  // decided on it or another claimer took it over; false too when no event has the id.
  virtual Result<bool> claim_holds(long long id, const std::string& claim_token) = 0;
  // The earliest due_at_ms of any pending or waiting event, if any.
  virtual Result<std::optional<long long>> next_due_at() = 0;
  virtual Result<std::optional<EventRow>> get_event(long long id) = 0;
  virtual Result<std::optional<EventRow>> find_event(const std::string& event_id) = 0;
  virtual Result<std::vector<EventRow>> list_events(const EventFilter& filter) = 0;
  virtual Result<std::map<EventState, long long>> count_events_by_state() = 0;
  // Stores the outcome and clears the claim, only while the event is still claimed with
  // outcome.claim_token (pending or waiting): otherwise conflict ("lost claim": an operator rejected
  // it, or another claimer took it over) and nothing is written. not_found when no event has the id.
  virtual Result<void> record_outcome(const EventOutcome& outcome, long long now_ms) = 0;
  // Several outcomes at once: for each, in order, what record_outcome(outcome, now_ms) returns for it.
  // An outcome refused with conflict (lost claim) or not_found writes nothing of its own and the others
  // go on; any other failure stops there: that outcome and every later one carry the error and none
  // of them is written. A store may write the batch in one transaction (SQLite does: then a failure
  // other than conflict/not_found writes none of the batch, and each result carries it). The default
  // calls record_outcome for each in turn.
  virtual std::vector<Result<void>> record_outcomes(const std::vector<const EventOutcome*>& outcomes,
                                                    long long now_ms);
  // claimed pending/waiting → state held with reason, claim cleared (not final; blocks the employee's
  // later events). conflict ("lost claim") when not claimed with `claim_token`; not_found: no such id.
  virtual Result<void> hold_event(long long id, const std::string& claim_token, const std::string& reason,
                                  long long now_ms) = 0;
  // The operator's transitions below clear any claim: they win over an outcome in flight.
  // held → pending with approved = true, due now. Returns how many changed. not_found for an id that
  // is not held.
  virtual Result<int> approve_event(long long id, long long now_ms) = 0;
  virtual Result<int> approve_all_held(long long now_ms) = 0;
  // held or pending or waiting → rejected. not_found when the event is final or absent. The event's
  // employee gives up the logins (reserve_user_name) it holds where no Zoom user is linked to it.
  virtual Result<void> reject_event(long long id, const std::string& reason, long long now_ms) = 0;
  // failed → pending, attempts 0, due now; or a pending event waiting out its backoff after a
  // transient error (attempts > 0, due later, unclaimed) → due now, its attempts kept. Returns how many
  // changed (0 or 1; retry_all: every failed).
  virtual Result<int> retry_event(long long id, long long now_ms) = 0;
  virtual Result<int> retry_all_failed(long long now_ms) = 0;
  // waiting events whose due_at_ms <= now_ms become pending. Returns how many changed.
  virtual Result<int> promote_waiting(long long now_ms) = 0;
  // In one transaction, each event of `changes` that is still waiting, unclaimed, and whose times
  // differ from the given ones takes them (and the given state, waiting or pending), with a history row
  // carrying its reason; any other is left as it is. Returns the ids changed. Giving the same changes
  // twice changes nothing the second time (several daemons may reschedule the same events).
  virtual Result<std::vector<long long>> reschedule_events(const std::vector<EventReschedule>& changes,
                                                           long long now_ms) = 0;
  // Who makes the state changes through this store from now on, recorded in each event's history
  // (ingest, outcome, hold, approve, reject, retry): "h2rd" until set; the CLI sets "cli:USER".
  virtual void set_actor(const std::string& actor) = 0;
  // An event's state changes, oldest first.
  virtual Result<std::vector<EventHistoryRow>> event_history(long long id) = 0;
  // How many state changes into each final state (done, skipped, superseded, failed, rejected) were
  // made in each hour from `since_ms` on (the console's chart of the day; an event retried after a
  // failure counts once per ending, a note on a final event — from = to — none). Rows by hour, then
  // state; hours with none are absent. Indexed by time (event_history_by_time): the cost is that of
  // the rows counted.
  virtual Result<std::vector<HourlyOutcomes>> outcomes_by_hour(long long since_ms) = 0;
  // A history row that changes no state (from = to = the event's state now), e.g. the calls a daemon
  // had already sent when an operator's decision refused its outcome. not_found: no such id.
  virtual Result<void> note_event(long long id, const std::string& reason, long long now_ms) = 0;

  // employees and links
  virtual Result<std::optional<EmployeeRow>> get_employee(const std::string& employee_id) = 0;
  virtual Result<void> put_employee(const EmployeeRow& row) = 0;
  virtual Result<std::vector<EmployeeRow>> list_employees() = 0;
  virtual Result<std::optional<LinkRow>> get_link(const std::string& connection, const std::string& employee_id) = 0;
  virtual Result<void> put_link(const LinkRow& row) = 0;
  virtual Result<std::vector<LinkRow>> list_links(const std::string& connection) = 0;
  // Ownership: every link in `connection` to Zoom user `zoom_user_id`, or whose user_name equals
  // `user_name` ignoring ASCII case ("" matches nothing), by employee_id. A Zoom user is linked to one
  // employee at most: put_link (and an outcome) giving a second employee the same (connection,
  // zoom_user_id) is refused with `conflict`. The default scans list_links.
  // userName reservations: a Zoom login (per connection) goes to one employee. Before a call that would
  // give a Zoom user a userName (a create, adopting a user found by userName, a rename, acting on a user
  // found by userName), the engine reserves the login for the employee, in one atomic step across
  // every daemon and process on the database: from then on the employee holds `claim.key` and no other
  // key in the connection (the key it held before is given up). `key` is the userName folded by the
  // caller (fold_case: Unicode case folding, the same on every backend). Returns "" when the employee
  // holds the key after the call, or the id of the employee who holds it already (nothing changed).
  // An outcome's links_remove gives the employee's key up, and so does reject_event where the employee
  // has no link. invalid: an empty field.
  virtual Result<std::string> reserve_user_name(const UserNameClaim& claim) = 0;
  virtual Result<std::vector<LinkRow>> links_to_zoom_user(const std::string& connection,
                                                          const std::string& zoom_user_id,
                                                          const std::string& user_name);
  // get_employee and get_link (for each of `connections`) of every employee in `employee_ids`: one
  // PlanInputs each, in order. A store may read them all in one snapshot (SQLite: one read transaction
  // instead of one per row); the default calls get_employee and get_link in turn.
  virtual Result<std::vector<PlanInputs>> plan_inputs(const std::vector<std::string>& employee_ids,
                                                      const std::vector<std::string>& connections);
  virtual Result<std::set<std::string>> seen_fields() = 0;

  // True when several `h2rd run` may use this database at once (PostgreSQL): no single-instance lock
  // is taken, and a daemon never releases other owners' claims at its start (they expire instead).
  virtual bool shared() const { return false; }
  // daemons. heartbeat: `row.owner` is alive at now_ms (its row inserted or updated; started_at_ms,
  // host, pid and version taken from `row` when inserted), and every event it holds claimed gets
  // lease_until_ms = now_ms + lease_ms; rows whose heartbeat is older than k_gone_daemon_kept_ms
  // (store/gone_daemons.hpp) are removed. Returns how many claims were extended.
  virtual Result<int> heartbeat(const DaemonRow& row, long long now_ms, long long lease_ms);
  // Daemons whose heartbeat_at_ms > now_ms - stale_ms, by owner, with `claims`, `claims_until_ms` and
  // `leader` filled.
  virtual Result<std::vector<DaemonRow>> list_daemons(long long now_ms, long long stale_ms);
  // Forgets a daemon (clean stop): its row, and the leader lease when it holds it.
  virtual Result<void> remove_daemon(const std::string& owner);
  // The leader lease (one row): true when `owner` holds it after the call — it held it and renewed it
  // (until now_ms + lease_ms), or nobody held an unexpired one and it took it. False: another owner
  // holds an unexpired lease. A caller that gets false or an error stops acting as leader.
  virtual Result<bool> try_lead(const std::string& owner, long long now_ms, long long lease_ms);
  // The guard's budget (lifecycle.guard), counted across daemons in a sliding window. A set of changes
  // that takes things away (one inbox file, one rules edit's resync: GuardRequest::set) asks once for the
  // places of all its changes still to run. Granted when they fit beside every reservation made after
  // now_ms - per_ms; refused otherwise, and nothing is reserved. A set decided within the window keeps
  // its decision, on every daemon: refused stays refused (its later batches are held too), granted stays
  // granted up to the count it reserved; asking for more reserves the difference when that fits and
  // refuses the set otherwise (what it reserved stays counted). Decisions older than the window are
  // forgotten; rows older than a week are deleted.
  virtual Result<GuardAnswer> reserve_guard(const GuardRequest& request);
  // Pacing shared by the daemons (GCRA): each connection has one row holding its schedule's next free
  // slot (tat_us, "theoretical arrival time"). In one atomic step the schedule moves on from
  // max(tat_us, from_us) by count × interval_us, and the slots it passed over are returned. So the slots
  // of all grants, whoever took them, are at least interval_us apart, and a grant no one uses only
  // delays the schedule by its own length. count 0 takes nothing and holds the schedule back until
  // from_us (a 429's Retry-After shared with the other daemons). A connection without a row starts at
  // from_us. Default: not supported (permanent).
  virtual Result<PaceGrant> take_pace_grant(const std::string& connection, long long from_us, long long interval_us,
                                            int count);

  // small key/value facts: rules version in force, last cycle time, ...
  virtual Result<std::optional<std::string>> get_meta(const std::string& key) = 0;
  virtual Result<void> set_meta(const std::string& key, const std::string& value) = 0;

  // Moving a deployment (h2rd migrate, lib/store/store_copy.hpp). list_meta: every key/value pair.
  // begin_import: conflict when the store holds an event or a connection already (it only fills an
  // empty store); the batch holds the store's write transaction until it ends.
  virtual Result<std::map<std::string, std::string>> list_meta();
  virtual Result<std::unique_ptr<ImportBatch>> begin_import();
};

} // namespace h2r
