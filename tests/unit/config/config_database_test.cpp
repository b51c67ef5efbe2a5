// `database:` as a SQLite path, a PostgreSQL URL, or { url, password_file }; passwords never in clear.
#include "config/config.hpp"
#include "config/config_diff.hpp"
#include "core/db_url.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace h2r;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "h2r-configdb-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) const {
    std::ofstream(path / name, std::ios::binary) << text;
    ::chmod((path / name).c_str(), mode);
    return (path / name).string();
  }
};

std::string messages(const Expected<Config, Diagnostics>& config) {
  std::string out;
  if (!config)
    for (const auto& d : config.error()) out += d.to_string() + "\n";
  return out;
}

} // namespace

TEST_CASE("config database: a path stays a SQLite file, a URL is kept as it is") {
  TempDir dir;
  auto sqlite = load_config(dir.write("a.yaml", "database: state/h2r.db\n"));
  REQUIRE_MESSAGE(sqlite, messages(sqlite));
  CHECK(sqlite->database == (dir.path / "state" / "h2r.db").string());
  CHECK(sqlite->database_password_file.empty());
  CHECK(sqlite->console.tokens == sqlite->database + ".console-tokens");

  auto pg = load_config(dir.write("b.yaml", "database: postgresql://h2r@db.example.com:5432/h2r?sslmode=verify-full\n"));
  REQUIRE_MESSAGE(pg, messages(pg));
  CHECK(pg->database == "postgresql://h2r@db.example.com:5432/h2r?sslmode=verify-full");
  // The console token file cannot live beside a URL: beside the config instead.
  CHECK(pg->console.tokens == (dir.path / "h2r.console-tokens").string());

  auto short_scheme = load_config(dir.write("c.yaml", "database: postgres:///h2r\n"));
  REQUIRE_MESSAGE(short_scheme, messages(short_scheme));
  CHECK(short_scheme->database == "postgres:///h2r");
}

TEST_CASE("config database: a password in the URL is refused naming the key, file and line") {
  TempDir dir;
  const auto path = dir.write("h2rd.yaml", "timezone: UTC\ndatabase: postgresql://h2r:s3cret@db/h2r\n");
  auto config = load_config(path);
  REQUIRE_FALSE(config);
  const std::string text = messages(config);
  CHECK(text.find(path + ":2:11: database holds a password (user:PASSWORD@)") != std::string::npos);
  CHECK(text.find("s3cret") == std::string::npos);   // never echoed

  auto param = load_config(dir.write("p.yaml", "database:\n  url: postgresql://db/h2r?sslmode=require&password=s3cret\n"));
  REQUIRE_FALSE(param);
  CHECK(messages(param).find(":2:8: database.url holds a password (password=)") != std::string::npos);
  CHECK(messages(param).find("s3cret") == std::string::npos);

  auto other = load_config(dir.write("o.yaml", "database: mysql://db/h2r\n"));
  REQUIRE_FALSE(other);
  CHECK(messages(other).find("database must be a file path or a PostgreSQL URL") != std::string::npos);
}

TEST_CASE("config database: password_file must exist and be private") {
  TempDir dir;
  const auto secret = dir.write("pg-password", "s3cret\n", 0600);
  auto ok = load_config(dir.write("a.yaml", "database: { url: postgresql://h2r@db/h2r, password_file: pg-password }\n"));
  REQUIRE_MESSAGE(ok, messages(ok));
  CHECK(ok->database == "postgresql://h2r@db/h2r");
  CHECK(ok->database_password_file == secret);

  dir.write("open-password", "s3cret\n", 0644);
  auto open = load_config(dir.write("b.yaml", "database:\n  url: postgresql://h2r@db/h2r\n  password_file: open-password\n"));
  REQUIRE_FALSE(open);
  CHECK(messages(open).find(":3:18: database.password_file " + (dir.path / "open-password").string() +
                            " is accessible by group or others (mode 0644)") != std::string::npos);

  auto missing = load_config(dir.write("c.yaml", "database: { url: postgresql://db/h2r, password_file: nope }\n"));
  REQUIRE_FALSE(missing);
  CHECK(messages(missing).find("database.password_file " + (dir.path / "nope").string() + " cannot be read") !=
        std::string::npos);

  auto no_url = load_config(dir.write("d.yaml", "database: { password_file: pg-password }\n"));
  REQUIRE_FALSE(no_url);
  CHECK(messages(no_url).find("database: a mapping needs `url: postgresql://") != std::string::npos);

  auto unknown = load_config(dir.write("e.yaml", "database: { url: postgresql://db/h2r, pasword_file: x }\n"));
  REQUIRE_FALSE(unknown);
  CHECK(messages(unknown).find("pasword_file") != std::string::npos);
}

TEST_CASE("config database: a change waits for a restart, and is shown without password") {
  TempDir dir;
  const auto secret = dir.write("pg-password", "x\n", 0400);
  auto before = load_config(dir.write("a.yaml", "database: state/h2r.db\n"));
  auto after = load_config(dir.write("b.yaml", "database: { url: postgresql://h2r@db/h2r, password_file: pg-password }\n"));
  REQUIRE(before);
  REQUIRE(after);
  auto changes = diff_config(*before, *after);
  int seen = 0;
  for (const auto& c : changes) {
    if (c.key == "database" || c.key == "database.password_file") {
      ++seen;
      CHECK_FALSE(c.live);
    }
  }
  CHECK(seen == 2);
  CHECK_FALSE(is_live_key("database.password_file"));
}

TEST_CASE("db url: the password part is found and redacted, paths pass through") {
  CHECK(url_password_part("postgresql://h2r@db:5432/h2r") == "");
  CHECK(url_password_part("postgresql:///h2r") == "");
  CHECK(url_password_part("postgresql://h2r:pw@db/h2r") == "user:PASSWORD@");
  CHECK(url_password_part("postgresql://h2r:@db/h2r") == "user:PASSWORD@");
  CHECK(url_password_part("postgres://db/h2r?password=pw") == "password=");
  CHECK(url_password_part("postgres://db/h2r?sslmode=require&PASSWORD=pw") == "password=");
  CHECK(url_password_part("postgres://db/h2r?pass%77ord=pw") == "password=");
  CHECK(url_password_part("postgres://db/h2r?passwordx=1") == "");
  CHECK(url_password_part("postgres://db/a@b") == "");   // '@' in the path is no userinfo
  CHECK(redact_database("postgresql://h2r:pw@db/h2r?password=pw&sslmode=require") ==
        "postgresql://h2r:***@db/h2r?password=***&sslmode=require");
  CHECK(redact_database("/var/lib/h2r/h2r.db") == "/var/lib/h2r/h2r.db");
  CHECK(is_database_url("postgres://x"));
  CHECK_FALSE(is_database_url("h2r.db"));
}
