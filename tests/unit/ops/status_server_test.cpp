// The status server under slow clients, and the database-file check behind /healthz.
#include "ops/health.hpp"
#include "ops/status_server.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace h2r;
using namespace std::chrono_literals;

namespace {

// A TCP connection to 127.0.0.1:port that sends nothing.
struct SilentClient {
  int fd = -1;
  explicit SilentClient(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~SilentClient() {
    if (fd >= 0) ::close(fd);
  }
  SilentClient(const SilentClient&) = delete;
  SilentClient& operator=(const SilentClient&) = delete;
  // Still open from the server's side: nothing to read, and no end of stream.
  bool open() const {
    char c = 0;
    const auto n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

} // namespace

TEST_CASE("ops: 50 clients that connect and send nothing do not starve /healthz" * doctest::test_suite("threads")) {
  // A long I/O timeout, so that no silent client is dropped during the test: /healthz must be
  // answered while all 50 still hold their connection (the pool is large enough), not after some timed out.
  StatusServerOptions options;
  options.io_timeout = 120s;
  StatusServer server({[] { return std::string("h2r_up 1\n"); }, [] { return HealthReport{true, "ok"}; }}, options);
  auto port = server.start("127.0.0.1:0");
  REQUIRE(port);
  std::vector<std::unique_ptr<SilentClient>> silent;
  for (int i = 0; i < 50; ++i) silent.push_back(std::make_unique<SilentClient>(*port));

  httplib::Client client("127.0.0.1", *port);
  client.set_read_timeout(60s);   // a bound for a failing run, far below the silent clients' 120 s
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  int still_open = 0;
  for (const auto& s : silent) still_open += s->open();
  CHECK(still_open == 50);
  silent.clear();
  server.stop();
}

TEST_CASE("ops: the database file check notices a deleted or replaced database file" * doctest::test_suite("threads")) {
  test::TempDir dir;
  const auto db = dir.path() / "h2r.db";
  std::ofstream(db) << "x";
  DatabaseFileCheck check(db.string());
  CHECK_FALSE(check().has_value());

  const auto aside = dir.path() / "aside.db";
  std::filesystem::rename(db, aside);
  auto deleted = check();
  REQUIRE(deleted);
  CHECK(deleted->find("database file " + db.string() + " was deleted") == 0);

  std::filesystem::copy_file(aside, db);
  auto replaced = check();
  REQUIRE(replaced);
  CHECK(replaced->find("was replaced on disk") != std::string::npos);

  std::filesystem::remove(db);
  std::filesystem::rename(aside, db);
  CHECK_FALSE(check().has_value());

  // A database that was not a file when opened (":memory:") has nothing to check.
  CHECK_FALSE(DatabaseFileCheck(":memory:")().has_value());
}

TEST_CASE("ops: the store writes check fails /healthz from the first refused write until one succeeds" * doctest::test_suite("threads")) {
  long long since = 0;
  StoreWritesCheck check([&] { return since; });
  CHECK_FALSE(check().has_value());
  since = 1'764'597'600'000;   // 2025-12-01T14:00:00Z
  auto failing = check();
  REQUIRE(failing);
  CHECK(failing->find("database writes are failing since 2025-12-01T14:00:00") == 0);
  since = 0;
  CHECK_FALSE(check().has_value());
}
