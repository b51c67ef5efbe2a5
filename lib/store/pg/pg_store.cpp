// open_pg_store and the connection pool. The rows (connections, employees, links, meta) live in
// pg_store_rows.cpp, events in pg_store_events.cpp, ingest in pg_store_ingest.cpp, daemons in
// pg_store_daemons.cpp.
#include "store/pg/pg_store_impl.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <fstream>

namespace h2r {

namespace {

// Connections one store opens at most; callers beyond wait for one to come back.
constexpr int k_max_connections = 8;
constexpr std::size_t k_max_url = 4096;
constexpr std::size_t k_max_password_file = 4096;
constexpr long long k_schema_lock = 0x6832725f73636865LL; // "h2r_sche"

// "postgresql host H port P database D" from the URL alone (for errors before any connection).
std::string label_of_url(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  std::string host = "(default)", port = "(default)", db = "(default)";
  if (options != nullptr) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || *o->val == '\0') continue;
      const std::string_view key = o->keyword;
      if (key == "host") host = o->val;
      else if (key == "port") port = o->val;
      else if (key == "dbname") db = o->val;
    }
    PQconninfoFree(options);
  }
  return fmt::format("postgresql host {} port {} database {}", host, port, db);
}

bool valid_schema_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

Result<std::string> read_password_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::invalid, fmt::format("password_file {}: cannot read it", path));
  std::string text(k_max_password_file + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > k_max_password_file)
    return fail(ErrorKind::invalid, fmt::format("password_file {}: longer than {} bytes", path, k_max_password_file));
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return fail(ErrorKind::invalid, fmt::format("password_file {}: line 1 is empty", path));
  return text;
}

} // namespace

bool is_postgres_url(const std::string& database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

int pg_schema_version() { return pg::schema_version(); }

Result<std::unique_ptr<Store>> open_pg_store(const PgOptions& options) {
  if (!is_postgres_url(options.url))
    return fail(ErrorKind::invalid, "database: a PostgreSQL URL starts with postgresql:// or postgres://");
  if (options.url.size() > k_max_url)
    return fail(ErrorKind::invalid, fmt::format("database: the URL is longer than {} characters", k_max_url));
  if (!options.schema.empty() && !valid_schema_name(options.schema))
    return fail(ErrorKind::invalid, fmt::format("database schema '{}': use 1 to 63 of a-z, 0-9 and _, not starting "
                                                "with a digit", options.schema));
  std::string password;
  if (!options.password_file.empty()) password = H2R_TRY(read_password_file(options.password_file));
  std::string label = label_of_url(options.url);
  auto store = std::make_unique<PgStore>(options, options.url, std::move(password), label);
  auto first = H2R_TRY(store->connect());
  store->set_label("postgresql " + first->describe()); // as libpq resolved it (PG* variables included)
  auto setup = [&]() -> Result<void> {
    if (!options.schema.empty()) {
      auto tx = H2R_TRY(pg::Tx::begin(*first));
      H2R_TRY(first->exec("SELECT pg_advisory_xact_lock($1)", pg::Params().integer(k_schema_lock)));
      // Created only when missing: a role without CREATE on the database may use an existing schema.
      auto found = H2R_TRY(first->exec("SELECT 1 FROM pg_namespace WHERE nspname = $1", pg::Params().text(options.schema)));
      if (found.empty()) H2R_TRY(first->exec("CREATE SCHEMA " + first->quote_identifier(options.schema)));
      H2R_TRY(tx.commit());
    }
    return pg::migrate(*first);
  }();
  if (!setup) {
    setup.error().message = fmt::format("postgresql {}: {}", first->describe(), setup.error().message);
    return unexpected(std::move(setup).error());
  }
  { PgStore::Lease back(*store, std::move(first)); } // the first connection joins the pool
  return std::unique_ptr<Store>(std::move(store));
}

constexpr long long k_idle_in_transaction_ms = 5'000;

// ---- the pool -----------------------------------------------------------------------------------

Result<std::unique_ptr<pg::Conn>> PgStore::connect() {
  auto conn = H2R_TRY(pg::Conn::connect(m_conninfo, m_password, m_label));
  // A daemon that stalls inside a transaction (frozen, or its connection stopped forwarding) would
  // hold its row locks, and so every other daemon's rescue of its claims, for as long as it stalls:
  // the server ends such a session after a few idle seconds instead (h2r's transactions send their
  // statements back to back). The stalled daemon finds its connection gone and gives its work up.
  if (auto idle = conn->exec(fmt::format("SET idle_in_transaction_session_timeout = {}", k_idle_in_transaction_ms)); !idle) {
    idle.error().message = fmt::format("{}: cannot set idle_in_transaction_session_timeout: {}", m_label, idle.error().message);
    return unexpected(std::move(idle).error());
  }
  if (!m_options.schema.empty()) {
    auto set = conn->exec("SELECT set_config('search_path', $1, false)",
                          pg::Params().text(conn->quote_identifier(m_options.schema)));
    if (!set) {
      set.error().message = fmt::format("{}: cannot set the schema: {}", m_label, set.error().message);
      return unexpected(std::move(set).error());
    }
  }
  return conn;
}

Result<PgStore::Lease> PgStore::acquire() {
  {
    MutexLock lock(m_mutex);
    m_freed.wait(lock, [&]() H2R_REQUIRES(m_mutex) { return !m_idle.empty() || m_open < k_max_connections; });
    if (!m_idle.empty()) {
      auto conn = std::move(m_idle.back());
      m_idle.pop_back();
      return Lease(*this, std::move(conn));
    }
    ++m_open;
  }
  auto conn = connect();
  if (!conn) {
    MutexLock lock(m_mutex);
    --m_open;
    m_freed.notify_one();
    return unexpected(std::move(conn).error());
  }
  return Lease(*this, std::move(conn).value());
}

void PgStore::give_back(std::unique_ptr<pg::Conn> conn) {
  MutexLock lock(m_mutex);
  if (conn->broken()) {
    // A lost connection is dropped, and the idle ones with it (a restarted server or a broken network
    // took them too, libpq only notices on use): the next calls connect anew.
    m_open -= 1 + static_cast<int>(m_idle.size());
    m_idle.clear();
  } else {
    m_idle.push_back(std::move(conn));
  }
  m_freed.notify_all();
}

std::string PgStore::actor() const {
  MutexLock lock(m_mutex);
  return m_actor;
}

void PgStore::set_actor(const std::string& actor) {
  MutexLock lock(m_mutex);
  m_actor = actor;
}

} // namespace h2r
