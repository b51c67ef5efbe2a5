// h2rd migrate --to postgresql://… [--password-file FILE]: copies the SQLite deployment the config
// names into an empty PostgreSQL database, in one transaction (store/store_copy.hpp), while holding
// the SQLite file's single-instance lock (no daemon may run on it meanwhile).
#include "core/db_url.hpp"
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "store/sqlite/instance_lock.hpp"
#include "store/open_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store_copy.hpp"

#include <iostream>
#include <sys/stat.h>

namespace h2r::cli {

namespace {

// Where to copy to, from the command line: a PostgreSQL URL without a password, and the password's
// file if one is given. nullopt (with `code` set) when the command line is wrong.
struct MigrateTarget {
  std::string url;
  std::string password_file;
};

std::optional<MigrateTarget> migrate_target(const Args& args, int& code) {
  code = k_exit_usage;
  const auto to = args.value("--to");
  if (!args.positional.empty() || !to) {
    print_error("usage: h2rd migrate --to postgresql://USER@HOST/DB [--password-file FILE] (see `h2rd migrate --help`)");
    return std::nullopt;
  }
  if (!is_database_url(*to)) {
    print_error("--to must be a PostgreSQL URL (postgresql://… or postgres://…), got '" + redact_database(*to) + "'");
    return std::nullopt;
  }
  if (auto part = url_password_part(*to); !part.empty()) {
    print_error("--to holds a password (" + part + "): a command line is visible to every user of the machine; "
                "give it with --password-file FILE (chmod 600), ~/.pgpass or $PGPASSFILE instead");
    return std::nullopt;
  }
  MigrateTarget target{*to, ""};
  if (auto file = args.value("--password-file")) {
    if (auto problem = password_file_problem(*file)) {
      print_error("--password-file " + *file + " " + *problem);
      return std::nullopt;
    }
    target.password_file = *file;
  }
  code = k_exit_ok;
  return target;
}

// What migrate says once the copy is committed: the counts, and what the operator does next.
void print_migrated(const Config& config, const std::string& shown, const CopyCounts& counts, bool json) {
  if (json) {
    print_json({{"from", config.database},
                {"to", shown},
                {"copied",
                 {{"connections", counts.connections},
                  {"connection_health", counts.connection_health},
                  {"events", counts.events},
                  {"history", counts.history},
                  {"employees", counts.employees},
                  {"links", counts.links},
                  {"seen_fields", counts.seen_fields},
                  {"meta", counts.meta}}}});
    return;
  }
  std::cout << "migrated " << config.database << " into " << shown << ": " << describe(counts) << "\n"
            << "next: set `database: " << shown << "` in " << config.path << " (a password in a file named by "
            << "database.password_file), give every daemon the same secret key file (" << config.secret_key_file
            << "), then start the daemons. " << config.database << " is unchanged.\n";
}

} // namespace

int cmd_migrate(const std::string& config_path, const Words& words) {
  int code = k_exit_ok;
  auto args = parse_command("migrate", words, code);
  if (!args) return code;
  auto to = migrate_target(*args, code);
  if (!to) return code;
  auto config = load_config(config_path);
  if (!config) {
    for (const auto& d : config.error()) std::cerr << d.to_string() << "\n";
    return k_exit_config;
  }
  if (is_database_url(config->database)) {
    print_error("the config " + config->path + " names a PostgreSQL database already (" +
                redact_database(config->database) + "); migrate copies a SQLite deployment into PostgreSQL");
    return k_exit_failed;
  }
  struct stat st {};
  if (::stat(config->database.c_str(), &st) != 0) {
    print_error("there is no database at " + config->database + ": nothing to migrate");
    return k_exit_failed;
  }
  // Held until the copy is committed: a daemon on the file now refuses to start, one running makes
  // this fail (its events would change under the copy).
  auto lock = InstanceLock::acquire(config->database);
  if (!lock) {
    print_error(lock.error().message + "; stop it before migrating (systemctl stop h2rd)");
    return k_exit_failed;
  }
  auto from = open_sqlite_store(config->database, config->database_cache);
  if (!from) {
    print_error(from.error().message);
    return k_exit_failed;
  }
  const std::string shown = redact_database(to->url);
  auto target = open_store(to->url, to->password_file);
  if (!target) {
    print_error(target.error().message);
    return k_exit_failed;
  }
  auto counts = copy_store(**from, **target);
  if (!counts) {
    if (counts.error().kind == ErrorKind::conflict)
      print_error("the target " + shown + " is not empty (" + counts.error().message + "): migrate only fills an "
                  "empty database, and wrote nothing. Use a new database (createdb), or empty this one: "
                  "psql -d DB -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'");
    else
      print_error("migration failed, the target " + shown + " is left as it was: " + counts.error().message);
    return k_exit_failed;
  }
  print_migrated(*config, shown, *counts, args->has("--json"));
  return k_exit_ok;
}

} // namespace h2r::cli
