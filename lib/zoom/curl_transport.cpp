#include "zoom/curl_transport.hpp"

#include "core/mutex.hpp"
#include "core/text.hpp"
#include "zoom/transport_errors.hpp"
#include "zoom/url.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <thread>
#include <vector>

namespace h2r {
namespace {

// Headers of one answer together (names and values): past this the answer is cut off. Zoom's are a
// few KiB; libcurl itself refuses a single header line over 100 KiB.
constexpr std::size_t k_max_header_bytes = 256u << 10;
// Connections libcurl keeps open for reuse, all origins together: room for 1,000 accounts' few each.
constexpr long k_max_cached_connections = 4096;
// Easy handles kept for reuse (each holds its buffers and TLS session ids), beyond those in flight.
constexpr std::size_t k_idle_easy_handles = 64;

void init_libcurl_once() {
  // curl_global_init before any other libcurl call, once per process (a function-local static is
  // initialised once even when several transports are made at the same time).
  static const CURLcode k_init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)k_init;
}

long as_ms(std::chrono::milliseconds d) { return static_cast<long>(std::max<std::chrono::milliseconds::rep>(1, d.count())); }

struct Call {
  HttpRequest request;      // owns what libcurl points at (URL, body) until the call ends
  UrlParts url;
  CurlTransport::Done done;
  std::size_t cap = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpResponse response;
  std::size_t header_bytes = 0;
  bool too_big = false;
  std::chrono::steady_clock::time_point started;
  char error_text[CURL_ERROR_SIZE] = {};   // libcurl's own words for a failure (host, port, what failed)

  Call() = default;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call() {
    if (headers) curl_slist_free_all(headers);
  }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* call = static_cast<Call*>(user);
  const std::size_t bytes = size * count;
  if (bytes > call->cap - call->response.body.size()) {
    call->too_big = true;
    return 0;   // any other count than `bytes` ends the transfer (CURLE_WRITE_ERROR)
  }
  call->response.body.append(data, bytes);
  return bytes;
}

// One header line a call, "Name: value\r\n"; a status line starts the headers of a new answer (an
// interim 1xx answer's headers are dropped).
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* call = static_cast<Call*>(user);
  const std::size_t bytes = size * count;
  call->header_bytes += bytes;
  if (call->header_bytes > k_max_header_bytes) {
    call->too_big = true;
    return 0;
  }
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    call->response.headers.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  call->response.headers[ascii_lower(std::string(line.substr(0, colon)))] = std::string(value);
  return bytes;
}

} // namespace

// The multi handle and the one thread that drives it, on libcurl's socket interface: libcurl says which
// sockets to watch (socket callback) and when its next timeout is (timer callback); the thread sleeps
// in epoll_wait and hands libcurl only the socket that is ready, so a wakeup costs the same with 3
// calls in flight as with 300 (curl_multi_perform would try every transfer each time).
// Other threads only queue calls (under m_mutex) and write the eventfd; everything else — the multi
// handle, the easy handles, the calls in flight — belongs to the I/O thread alone.
class CurlTransport::Loop {
public:
  explicit Loop(TransportOptions options) : m_options(std::move(options)) {
    init_libcurl_once();
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_epoll >= 0 && m_wake >= 0) {
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = m_wake;
      ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &event);
    }
    m_multi = curl_multi_init();
    // HTTP/2 streams share one connection per origin where the server offers it (TLS, ALPN); over
    // HTTP/1.1 each call in flight has a connection of its own, kept alive in the multi's cache.
    curl_multi_setopt(m_multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    // Idle connections kept for reuse, over all origins (libcurl closes the oldest beyond it; its
    // default, 4 x the calls in flight, would close connections a burst opened as soon as it ends).
    curl_multi_setopt(m_multi, CURLMOPT_MAXCONNECTS, k_max_cached_connections);
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERDATA, this);
    m_thread = std::thread([this] { run(); });
  }

  ~Loop() {
    {
      MutexLock lock(m_mutex);
      m_stopping = true;
    }
    wake();
    m_thread.join();
    for (CURL* easy : m_idle) curl_easy_cleanup(easy);
    curl_multi_cleanup(m_multi);
    if (m_wake >= 0) ::close(m_wake);
    if (m_epoll >= 0) ::close(m_epoll);
  }

  void submit(std::unique_ptr<Call> call) {
    {
      MutexLock lock(m_mutex);
      if (!m_stopping) {
        m_queue.push_back(std::move(call));
        // Under the lock: once it is released, the destructor may close the eventfd.
        wake();
        return;
      }
    }
    call->done(unexpected(transport::no_answer(call->url, "the transport is closing")));
  }

  long connections_opened() const { return m_connections.load(); }
  std::size_t default_cap() const { return m_options.max_answer_bytes; }

private:
  void wake() {
    const std::uint64_t one = 1;
    (void)!::write(m_wake, &one, sizeof one);
  }

  // libcurl: watch `fd` for `what` (CURL_POLL_IN, _OUT, _INOUT) or stop watching it (CURL_POLL_REMOVE).
  static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void* known) {
    auto* loop = static_cast<Loop*>(user);
    if (what == CURL_POLL_REMOVE) {
      ::epoll_ctl(loop->m_epoll, EPOLL_CTL_DEL, fd, nullptr);
      curl_multi_assign(loop->m_multi, fd, nullptr);
      return 0;
    }
    epoll_event event{};
    event.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    event.data.fd = fd;
    if (known) {
      ::epoll_ctl(loop->m_epoll, EPOLL_CTL_MOD, fd, &event);
    } else {
      ::epoll_ctl(loop->m_epoll, EPOLL_CTL_ADD, fd, &event);
      curl_multi_assign(loop->m_multi, fd, loop);   // any non-null pointer: "registered"
    }
    return 0;
  }

  // libcurl: call curl_multi_socket_action(CURL_SOCKET_TIMEOUT) in `ms` (-1: no timeout pending).
  static int on_timer(CURLM*, long ms, void* user) {
    auto* loop = static_cast<Loop*>(user);
    loop->m_timer = ms < 0 ? std::nullopt
                           : std::optional(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms));
    return 0;
  }

  void run() {
    std::array<epoll_event, 64> events{};
    for (;;) {
      std::deque<std::unique_ptr<Call>> incoming;
      bool stopping = false;
      {
        MutexLock lock(m_mutex);
        incoming.swap(m_queue);
        stopping = m_stopping;
      }
      if (stopping) {
        for (auto& call : incoming) call->done(unexpected(transport::no_answer(call->url, "the transport closed before the answer")));
        break;
      }
      for (auto& call : incoming) start(std::move(call));
      int wait_ms = 1000;
      if (m_timer) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*m_timer - std::chrono::steady_clock::now());
        wait_ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 1000));
      }
      const int ready = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), wait_ms);
      int running = 0;
      for (int i = 0; i < ready; ++i) {
        if (events[i].data.fd == m_wake) {
          std::uint64_t count = 0;
          (void)!::read(m_wake, &count, sizeof count);
          continue;
        }
        const int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                          (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                          (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(m_multi, events[i].data.fd, flags, &running);
      }
      if (m_timer && *m_timer <= std::chrono::steady_clock::now()) {
        m_timer.reset();
        curl_multi_socket_action(m_multi, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      int left = 0;
      while (CURLMsg* message = curl_multi_info_read(m_multi, &left))
        if (message->msg == CURLMSG_DONE) finish(message->easy_handle, message->data.result);
    }
    // Calls in flight end now, each with an error (none can be queued any more: m_stopping is set).
    for (auto& [easy, call] : m_running) {
      curl_multi_remove_handle(m_multi, easy);
      curl_easy_cleanup(easy);
      call->done(unexpected(transport::no_answer(call->url, "the transport closed before the answer")));
    }
    m_running.clear();
  }

  void start(std::unique_ptr<Call> call) {
    CURL* easy = nullptr;
    if (!m_idle.empty()) {
      easy = m_idle.back();
      m_idle.pop_back();
      curl_easy_reset(easy);
    } else {
      easy = curl_easy_init();
    }
    if (!easy) {
      call->done(unexpected(transport::no_answer(call->url, "libcurl could not start a call")));
      return;
    }
    call->easy = easy;
    const HttpRequest& request = call->request;
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    // No proxy from the environment (http_proxy, https_proxy): the Zoom calls carry tokens, and where
    // they go is h2rd.yaml's to say, as it was with cpp-httplib.
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    // Over TLS, where the server may offer HTTP/2, a call waits for the connection being opened to
    // learn whether it multiplexes rather than open another. Plain http:// is HTTP/1.1 only: waiting
    // there would put calls one behind the other.
    if (call->url.scheme == "https") curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, as_ms(m_options.connect_timeout));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, as_ms(m_options.deadline));
    // No Accept-Encoding, as before: Zoom's answers are small JSON, and compressing them costs the
    // server (zoom-sim included) more CPU than the bytes are worth. An answer compressed anyway arrives
    // as sent and counts against the cap as such.
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!m_options.ca_cert_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, m_options.ca_cert_file.c_str());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, call.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, call.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->error_text);

    // No "Expect: 100-continue" round trip: the body follows the headers at once.
    call->headers = curl_slist_append(call->headers, "Expect:");
    for (const auto& [name, value] : request.headers)
      call->headers = curl_slist_append(call->headers, (value.empty() ? name + ";" : name + ": " + value).c_str());
    const bool has_body = transport::sends_body(request);
    if (has_body && !request.content_type.empty())
      call->headers = curl_slist_append(call->headers, ("Content-Type: " + request.content_type).c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, call->headers);
    if (request.method == "GET") {
      curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (has_body) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    }
    call->started = std::chrono::steady_clock::now();
    if (curl_multi_add_handle(m_multi, easy) != CURLM_OK) {
      curl_easy_cleanup(easy);
      call->done(unexpected(transport::no_answer(call->url, "libcurl could not start a call")));
      return;
    }
    m_running.emplace(easy, std::move(call));
  }

  void finish(CURL* easy, CURLcode code) {
    curl_multi_remove_handle(m_multi, easy);
    auto it = m_running.find(easy);
    if (it == m_running.end()) return;
    std::unique_ptr<Call> call = std::move(it->second);
    m_running.erase(it);
    long opened = 0;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &opened);
    m_connections += opened;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (m_idle.size() < k_idle_easy_handles)
      m_idle.push_back(easy);
    else
      curl_easy_cleanup(easy);

    if (code == CURLE_OK) {
      call->response.status = static_cast<int>(status);
      call->done(std::move(call->response));
    } else {
      call->done(unexpected(error_of(*call, code)));
    }
  }

  Error error_of(const Call& call, CURLcode code) const {
    // libcurl's error buffer names the host, port and what failed; never a header or a body.
    const std::string why = call.error_text[0] ? std::string(call.error_text) : std::string(curl_easy_strerror(code));
    switch (code) {
    case CURLE_WRITE_ERROR:
      if (call.too_big) return call.header_bytes > k_max_header_bytes ? transport::answer_too_big(call.url, k_max_header_bytes)
                                                                        : transport::answer_too_big(call.url, call.cap);
      return transport::no_answer(call.url, why);
    case CURLE_OPERATION_TIMEDOUT:
      // The connect timeout and the whole call's deadline end a call with the same code: the time it
      // ran tells which.
      if (std::chrono::steady_clock::now() - call.started >= m_options.deadline)
        return transport::past_deadline(call.url, m_options.deadline);
      return transport::unreachable(call.url, "connection timed out");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return transport::unreachable(call.url, why);
    case CURLE_PEER_FAILED_VERIFICATION:
      return transport::tls_unverified(call.url);
    case CURLE_SSL_CACERT_BADFILE:
      return transport::ca_not_loaded();
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error{ErrorKind::permanent, "not an http(s) URL: " + call.request.url.substr(0, 200)};
    default:
      return transport::no_answer(call.url, why);
    }
  }

  const TransportOptions m_options;
  int m_epoll = -1;
  int m_wake = -1;   // an eventfd: submit() and the destructor write it, the I/O thread reads it
  CURLM* m_multi = nullptr;
  Mutex m_mutex;
  std::deque<std::unique_ptr<Call>> m_queue H2R_GUARDED_BY(m_mutex);
  bool m_stopping H2R_GUARDED_BY(m_mutex) = false;
  // The I/O thread's alone:
  std::map<CURL*, std::unique_ptr<Call>> m_running;
  std::optional<std::chrono::steady_clock::time_point> m_timer;   // libcurl's next timeout
  std::vector<CURL*> m_idle;
  std::atomic<long> m_connections{0};
  std::thread m_thread;   // last: starts once the members above exist
};

CurlTransport::CurlTransport(TransportOptions options) : m_loop(std::make_unique<Loop>(std::move(options))) {}
CurlTransport::~CurlTransport() = default;

void CurlTransport::send_async(HttpRequest request, Done done) {
  auto call = std::make_unique<Call>();
  if (auto refused = transport::refuse(request, call->url)) {
    done(unexpected(std::move(*refused)));
    return;
  }
  call->cap = request.max_answer_bytes ? request.max_answer_bytes : m_loop->default_cap();
  call->request = std::move(request);
  call->done = std::move(done);
  m_loop->submit(std::move(call));
}

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
  std::promise<Result<HttpResponse>> answer;
  auto future = answer.get_future();
  send_async(request, [&answer](Result<HttpResponse> result) { answer.set_value(std::move(result)); });
  return future.get();
}

long CurlTransport::connections_opened() const { return m_loop->connections_opened(); }

} // namespace h2r
