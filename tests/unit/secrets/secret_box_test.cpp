#include "secrets/secret_box.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

using namespace h2r;

namespace {

// A fresh directory under $TMPDIR, removed with everything in it at scope exit.
class TempDir {
public:
  TempDir() {
    auto base = std::filesystem::temp_directory_path() / "h2r-secrets-XXXXXX";
    std::string templ = base.string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    m_path = templ;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  std::string file(const std::string& name) const { return (m_path / name).string(); }

private:
  std::filesystem::path m_path;
};

void write_file(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::binary) << content;
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

SecretBox box_from(const std::string& key_path) {
  auto key = load_or_create_key(key_path);
  REQUIRE(key.has_value());
  return SecretBox(std::move(key).value());
}

const std::string k_clear = "s3cr3t-client-value-XYZ";

} // namespace

TEST_CASE("secret_box: round trip, and the blob has the documented layout without the clear text") {
  TempDir dir;
  auto box = box_from(dir.file("secret.key"));
  for (const std::string& clear : {std::string(), std::string("x"), k_clear, std::string(1000, 'q')}) {
    auto blob = box.seal(Secret(clear), "zoom-main");
    REQUIRE(blob.has_value());
    CHECK(blob->size() == 1 + SecretBox::k_nonce_bytes + clear.size() + SecretBox::k_tag_bytes);
    CHECK(static_cast<unsigned char>((*blob)[0]) == SecretBox::k_version);
    // Only texts long enough not to occur in random bytes by chance (a 1-byte one would, 1 time in 9).
    if (clear.size() >= 8) CHECK(blob->find(clear) == std::string::npos);
    auto opened = box.open(*blob, "zoom-main");
    REQUIRE(opened.has_value());
    CHECK(opened->reveal() == clear);
  }
}

TEST_CASE("secret_box: every seal uses a fresh nonce") {
  TempDir dir;
  auto box = box_from(dir.file("secret.key"));
  std::set<std::string> nonces;
  std::set<std::string> blobs;
  for (int i = 0; i < 200; ++i) {
    auto blob = box.seal(Secret(k_clear), "zoom-main");
    REQUIRE(blob.has_value());
    nonces.insert(blob->substr(1, SecretBox::k_nonce_bytes));
    blobs.insert(*blob);
  }
  CHECK(nonces.size() == 200);
  CHECK(blobs.size() == 200);
}

TEST_CASE("secret_box: any flipped bit, truncation, or wrong version is refused without revealing the secret") {
  TempDir dir;
  auto box = box_from(dir.file("secret.key"));
  auto blob = box.seal(Secret(k_clear), "zoom-main");
  REQUIRE(blob.has_value());
  for (std::size_t i = 0; i < blob->size(); ++i) {
    std::string damaged = *blob;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    auto opened = box.open(damaged, "zoom-main");
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().kind == ErrorKind::permanent);
    CHECK(opened.error().message.find(k_clear) == std::string::npos);
  }
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{28}, blob->size() - 1}) {
    auto opened = box.open(blob->substr(0, size), "zoom-main");
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().kind == ErrorKind::permanent);
  }
}

TEST_CASE("secret_box: another key or other associated data cannot open the blob") {
  TempDir dir;
  auto box = box_from(dir.file("a.key"));
  auto other = box_from(dir.file("b.key"));
  auto blob = box.seal(Secret(k_clear), "zoom-main");
  REQUIRE(blob.has_value());

  auto wrong_key = other.open(*blob, "zoom-main");
  REQUIRE_FALSE(wrong_key.has_value());
  CHECK(wrong_key.error().kind == ErrorKind::permanent);
  CHECK(wrong_key.error().message.find("key file may have changed") != std::string::npos);
  CHECK(wrong_key.error().message.find(k_clear) == std::string::npos);

  auto wrong_ad = box.open(*blob, "zoom-other");
  REQUIRE_FALSE(wrong_ad.has_value());
  CHECK(wrong_ad.error().kind == ErrorKind::permanent);
}

TEST_CASE("key file: created with mode 0600 and 32 bytes, then read back as the same key") {
  TempDir dir;
  auto path = dir.file("secret.key");
  mode_t old_umask = ::umask(0); // the mode must not depend on the caller's umask
  auto box = box_from(path);
  ::umask(old_umask);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_size == 32);

  auto blob = box.seal(Secret(k_clear), "c");
  REQUIRE(blob.has_value());
  auto again = box_from(path); // loads the existing file, does not create a new key
  auto opened = again.open(*blob, "c");
  REQUIRE(opened.has_value());
  CHECK(opened->reveal() == k_clear);
}

TEST_CASE("key file: refused when group or others may read or write it, naming the file and the fix") {
  TempDir dir;
  auto path = dir.file("secret.key");
  for (mode_t mode : {mode_t{0640}, mode_t{0604}, mode_t{0620}, mode_t{0602}, mode_t{0644}}) {
    CAPTURE(mode);
    write_file(path, std::string(32, 'k'), mode);
    auto key = load_or_create_key(path);
    REQUIRE_FALSE(key.has_value());
    CHECK(key.error().message.find(path) != std::string::npos);
    CHECK(key.error().message.find("chmod 600 " + path) != std::string::npos);
  }
  write_file(path, std::string(32, 'k'), 0400);
  CHECK(load_or_create_key(path).has_value());
}

TEST_CASE("key file: a wrong size is refused") {
  TempDir dir;
  auto path = dir.file("secret.key");
  for (std::size_t size : {std::size_t{0}, std::size_t{31}, std::size_t{33}, std::size_t{64}}) {
    CAPTURE(size);
    write_file(path, std::string(size, 'k'), 0600);
    auto key = load_or_create_key(path);
    REQUIRE_FALSE(key.has_value());
    CHECK(key.error().message.find(path) != std::string::npos);
    CHECK(key.error().message.find("32 bytes") != std::string::npos);
  }
}

TEST_CASE("key file: a symbolic link is refused, even to a good key, and a dangling one creates nothing") {
  TempDir dir;
  auto real = dir.file("real.key");
  write_file(real, std::string(32, 'k'), 0600);
  auto link = dir.file("secret.key");
  REQUIRE(::symlink(real.c_str(), link.c_str()) == 0);
  auto key = load_or_create_key(link);
  REQUIRE_FALSE(key.has_value());
  CHECK(key.error().message.find("symbolic link") != std::string::npos);

  auto dangling = dir.file("dangling.key");
  auto target = dir.file("target.key");
  REQUIRE(::symlink(target.c_str(), dangling.c_str()) == 0);
  CHECK_FALSE(load_or_create_key(dangling).has_value());
  CHECK_FALSE(std::filesystem::exists(target));
}

TEST_CASE("key file: a directory or a missing parent folder is refused with the file name") {
  TempDir dir;
  auto folder = dir.file("folder");
  std::filesystem::create_directory(folder);
  ::chmod(folder.c_str(), 0700);
  auto key = load_or_create_key(folder);
  REQUIRE_FALSE(key.has_value());
  CHECK(key.error().message.find(folder) != std::string::npos);

  auto missing = dir.file("nope/secret.key");
  auto key2 = load_or_create_key(missing);
  REQUIRE_FALSE(key2.has_value());
  CHECK(key2.error().message.find(missing) != std::string::npos);
}

TEST_CASE("SecretKey::from_bytes takes exactly 32 bytes") {
  CHECK(SecretKey::from_bytes(std::string(32, 'a')).has_value());
  CHECK_FALSE(SecretKey::from_bytes(std::string(31, 'a')).has_value());
  CHECK_FALSE(SecretKey::from_bytes(std::string(33, 'a')).has_value());
}
