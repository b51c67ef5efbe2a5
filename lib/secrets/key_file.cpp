// SecretKey and load_or_create_key: the key file on disk.
#include "secrets/secret_box.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace h2r {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes a file descriptor on scope exit.
class Fd {
public:
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  int get() const { return m_fd; }

private:
  int m_fd;
};

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> write_all(int fd, const unsigned char* data, std::size_t size, const std::string& path) {
  std::size_t done = 0;
  while (done < size) {
    auto n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return fail(ErrorKind::permanent, fmt::format("cannot write key file {}: {}", path, errno_text(errno)));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// Creates the key file; returns false (no error) when another process created it first.
Result<bool> create_key_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return false;
    return fail(ErrorKind::permanent, fmt::format("cannot create key file {}: {}", path, errno_text(errno)));
  }
  std::array<unsigned char, k_secret_key_bytes> bytes{};
  auto result = [&]() -> Result<void> {
    if (::fchmod(fd.get(), 0600) != 0) // umask may have removed bits; make the mode exact
      return fail(ErrorKind::permanent, fmt::format("cannot chmod key file {}: {}", path, errno_text(errno)));
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
      return fail(ErrorKind::permanent, fmt::format("cannot create key file {}: no random bytes", path));
    H2R_TRY(write_all(fd.get(), bytes.data(), bytes.size(), path));
    if (::fsync(fd.get()) != 0)
      return fail(ErrorKind::permanent, fmt::format("cannot fsync key file {}: {}", path, errno_text(errno)));
    return {};
  }();
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!result) {
    ::unlink(path.c_str());
    return unexpected(std::move(result).error());
  }
  // Make the new directory entry durable too; best effort (a failure here loses nothing yet).
  Fd dir(::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return true;
}

Result<SecretKey> read_key_file(const std::string& path, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return fail(ErrorKind::permanent, fmt::format("cannot stat key file {}: {}", path, errno_text(errno)));
  if (!S_ISREG(st.st_mode))
    return fail(ErrorKind::invalid, fmt::format("key file {} is not a regular file", path));
  if ((st.st_mode & 077) != 0)
    return fail(ErrorKind::invalid,
                fmt::format("key file {} is accessible by group or others (mode {:04o}); it must be private: "
                            "run `chmod 600 {}`",
                            path, st.st_mode & 07777, path));
  if (st.st_size != static_cast<off_t>(k_secret_key_bytes))
    return fail(ErrorKind::invalid, fmt::format("key file {} has {} bytes; a key is exactly {} bytes", path,
                                                st.st_size, k_secret_key_bytes));
  std::string bytes(k_secret_key_bytes + 1, '\0'); // one more to notice a file that grew meanwhile
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      OPENSSL_cleanse(bytes.data(), bytes.size());
      return fail(ErrorKind::permanent, fmt::format("cannot read key file {}: {}", path, errno_text(errno)));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  auto key = done == k_secret_key_bytes
                 ? SecretKey::from_bytes(std::string_view(bytes.data(), done))
                 : Result<SecretKey>(fail(ErrorKind::invalid,
                                          fmt::format("key file {} has {} bytes; a key is exactly {} bytes",
                                                      path, done, k_secret_key_bytes)));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

} // namespace

Result<SecretKey> SecretKey::from_bytes(std::string_view bytes) {
  if (bytes.size() != k_secret_key_bytes)
    return fail(ErrorKind::invalid, fmt::format("a secret key is exactly {} bytes, not {}", k_secret_key_bytes,
                                                bytes.size()));
  SecretKey key;
  std::memcpy(key.m_bytes.data(), bytes.data(), k_secret_key_bytes);
  return key;
}

SecretKey::SecretKey(SecretKey&& other) noexcept : m_bytes(other.m_bytes) {
  OPENSSL_cleanse(other.m_bytes.data(), other.m_bytes.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    m_bytes = other.m_bytes;
    OPENSSL_cleanse(other.m_bytes.data(), other.m_bytes.size());
  }
  return *this;
}

SecretKey::~SecretKey() { OPENSSL_cleanse(m_bytes.data(), m_bytes.size()); }

Result<SecretKey> load_or_create_key(const std::string& path, MissingKey missing) {
  if (path.empty()) return fail(ErrorKind::invalid, "no key file given (secret_key_file is empty)");
  for (int attempt = 0; attempt < 2; ++attempt) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() >= 0) return read_key_file(path, fd.get());
    int err = errno;
    if (err == ELOOP)
      return fail(ErrorKind::invalid, fmt::format("key file {} is a symbolic link; use the real file", path));
    if (err != ENOENT)
      return fail(ErrorKind::permanent, fmt::format("cannot open key file {}: {}", path, errno_text(err)));
    if (missing == MissingKey::refuse) {
      Error error{ErrorKind::invalid, fmt::format("key file {} is missing", path)};
      error.reason = ErrorReason::key_missing;
      return unexpected(std::move(error));
    }
    auto created = H2R_TRY(create_key_file(path));
    (void)created; // created now, or by a racing process: either way, read it back
  }
  return fail(ErrorKind::permanent, fmt::format("cannot open key file {}: it keeps disappearing", path));
}

} // namespace h2r
