#pragma once
// TLS over a connected socket with OpenSSL 3, compiled only when
// CACHEKIT_OPENSSL is defined (without it this header adds nothing).
//
// One TlsContext (an SSL_CTX) per backend, built from the configuration;
// one TlsSession (an SSL) per connection. OpenSSL reads and writes through
// a BIO of our own over the descriptor: every send carries MSG_NOSIGNAL
// (no SIGPIPE from a peer that went away, no signal() call) and
// MSG_DONTWAIT, every recv MSG_DONTWAIT, so each TLS call is non-blocking
// and the waits are poll()s bounded by the caller's deadline; except the
// blocking read of a connection waiting for its reply, which sleeps in recv
// bounded by SO_RCVTIMEO like the plaintext path (one system call per read).
// Read-ahead is on: one recv takes every record that has arrived. The
// latest session of each server is kept in its TlsContext, so the next
// connection to it resumes instead of making a full handshake.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include "../error.hpp"
#include "socket.hpp"

#ifdef CACHEKIT_OPENSSL

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

CACHEKIT_BEGIN_NAMESPACE
namespace detail {
namespace net {

/// What a TlsContext is built from (MemcachedBackendConfig's tls_* fields).
struct TlsOptions {
  std::string ca_file;    ///< PEM CA bundle; empty: the system trust store
  std::string cert_file;  ///< PEM client certificate chain; empty: none
  std::string key_file;   ///< PEM private key of cert_file
  bool verify = true;     ///< verify the server's certificate and name
};

/// OpenSSL's reason for the most recent failure on this thread (and the
/// thread's error queue emptied), or fallback when it has none.
inline std::string tls_reason(const char* fallback) {
  const unsigned long e = ERR_peek_last_error();
  std::string out;
  if (e != 0) {
    const char* r = ERR_reason_error_string(e);
    out = r != nullptr ? r : "error " + std::to_string(ERR_GET_REASON(e));
  } else {
    out = fallback;
  }
  ERR_clear_error();
  return out;
}

/// Whether OpenSSL's reason code r is the server refusing our client
/// certificate (an alert about it, or about a missing one).
inline bool tls_client_cert_refused(int r) noexcept {
  return r == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED || r == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         r == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN || r == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
         r == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE || r == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED ||
         r == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED || r == SSL_R_TLSV1_ALERT_ACCESS_DENIED ||
         r == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
}

class TlsSession;

/// An SSL_CTX for client connections plus the BIO method sessions use.
/// Shared (read only) by every connection of one backend.
class TlsContext {
 public:
  /// Builds the context; a CA, certificate or key file that cannot be
  /// loaded is a permanent error naming the field and the file.
  static Result<std::unique_ptr<TlsContext>> create(const TlsOptions& o) {
    ERR_clear_error();
    std::unique_ptr<TlsContext> t(new TlsContext());
    t->ctx_ = SSL_CTX_new(TLS_client_method());
    if (t->ctx_ == nullptr) return Error(ErrorKind::permanent, "tls: cannot create an SSL_CTX: " + tls_reason("unknown"));
    SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
    // Partial writes let a non-blocking write report progress; a retried
    // write may come from a buffer that moved (a vector that grew).
    SSL_CTX_set_mode(t->ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(t->ctx_, 1);
    if (!o.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(t->ctx_, o.ca_file.c_str(), nullptr) != 1) {
        return Error(ErrorKind::permanent,
                     "tls_ca_file: cannot load '" + o.ca_file + "': " + tls_reason("not a PEM certificate file"));
      }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx_) != 1) {
      return Error(ErrorKind::permanent, "tls: cannot load the system trust store: " + tls_reason("unknown"));
    }
    if (!o.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(t->ctx_, o.cert_file.c_str()) != 1) {
        return Error(ErrorKind::permanent,
                     "tls_cert_file: cannot load '" + o.cert_file + "': " + tls_reason("not a PEM certificate file"));
      }
      if (SSL_CTX_use_PrivateKey_file(t->ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return Error(ErrorKind::permanent,
                     "tls_key_file: cannot load '" + o.key_file + "': " + tls_reason("not a PEM private key file"));
      }
      if (SSL_CTX_check_private_key(t->ctx_) != 1) {
        return Error(ErrorKind::permanent, "tls_key_file: '" + o.key_file + "' does not match tls_cert_file '" +
                                               o.cert_file + "': " + tls_reason("key mismatch"));
      }
    }
    SSL_CTX_set_verify(t->ctx_, o.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    // Sessions kept here, per server, not in OpenSSL's cache (keyed by
    // session id, useless to a client).
    SSL_CTX_set_session_cache_mode(t->ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(t->ctx_, &TlsContext::on_new_session);
    t->verify_ = o.verify;
    t->method_ = make_method();
    if (t->method_ == nullptr) return Error(ErrorKind::permanent, "tls: cannot create a BIO method: " + tls_reason("unknown"));
    return t;
  }

  ~TlsContext() {
    for (auto& kept : sessions_) SSL_SESSION_free(kept.second);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (method_ != nullptr) BIO_meth_free(method_);
  }
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ctx() const noexcept { return ctx_; }
  BIO_METHOD* method() const noexcept { return method_; }
  bool verify() const noexcept { return verify_; }
  /// Handshakes completed with this context (one per connection opened).
  std::uint64_t handshakes() const noexcept { return handshakes_.load(std::memory_order_relaxed); }
  /// Of those, the handshakes that resumed an earlier session.
  std::uint64_t resumed() const noexcept { return resumed_.load(std::memory_order_relaxed); }
  void count_handshake(bool resumed) noexcept {
    handshakes_.fetch_add(1, std::memory_order_relaxed);
    if (resumed) resumed_.fetch_add(1, std::memory_order_relaxed);
  }

  /// Takes the newest kept session of server (the caller owns the
  /// reference; null when none). Each is used once: TLS 1.3 tickets are
  /// single-use (RFC 8446, C.4), and servers with a session cache refuse
  /// a second use.
  SSL_SESSION* take_session(const std::string& server) {
    const std::lock_guard<std::mutex> lock(sessions_mutex_);
    for (std::size_t i = sessions_.size(); i-- > 0;) {
      if (sessions_[i].first != server) continue;
      SSL_SESSION* s = sessions_[i].second;
      sessions_.erase(sessions_.begin() + static_cast<std::ptrdiff_t>(i));
      if (SSL_SESSION_is_resumable(s) == 1) return s;
      SSL_SESSION_free(s);
    }
    return nullptr;
  }
  /// Keeps session (taking the reference) for server; at most
  /// kKeptSessions per server, the oldest dropped.
  void keep_session(const std::string& server, SSL_SESSION* session) {
    const std::lock_guard<std::mutex> lock(sessions_mutex_);
    std::size_t count = 0, oldest = sessions_.size();
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      if (sessions_[i].first != server) continue;
      if (count++ == 0) oldest = i;
    }
    if (count >= kKeptSessions) {
      SSL_SESSION_free(sessions_[oldest].second);
      sessions_.erase(sessions_.begin() + static_cast<std::ptrdiff_t>(oldest));
    }
    sessions_.emplace_back(server, session);
  }
  static constexpr std::size_t kKeptSessions = 8;

 private:
  TlsContext() = default;
  static BIO_METHOD* make_method();
  static int on_new_session(SSL* ssl, SSL_SESSION* session);

  SSL_CTX* ctx_ = nullptr;
  BIO_METHOD* method_ = nullptr;
  bool verify_ = true;
  std::atomic<std::uint64_t> handshakes_{0};
  std::atomic<std::uint64_t> resumed_{0};
  std::mutex sessions_mutex_;
  std::vector<std::pair<std::string, SSL_SESSION*>> sessions_;  // by TlsSession key, oldest first
};

/// One TLS connection over a connected socket the caller owns (the socket
/// outlives the session).
class TlsSession {
 public:
  /// Runs the handshake on fd, bounded by deadline. name is what the
  /// server's certificate must match (a DNS name, sent as SNI, or an IP
  /// address); server names the server in messages. Verification failures
  /// and a refused client certificate are authentication errors; a server
  /// that closes, answers something else than TLS or hangs is transient
  /// (a timeout for the hang).
  static Result<std::unique_ptr<TlsSession>> handshake(TlsContext& tc, int fd, const std::string& name,
                                                       const std::string& server, Deadline deadline) {
    ERR_clear_error();
    std::unique_ptr<TlsSession> s(new TlsSession(fd, tc, server + " " + name));
    s->ssl_ = SSL_new(tc.ctx());
    if (s->ssl_ == nullptr) return Error(ErrorKind::transient, "TLS with " + server + ": SSL_new: " + tls_reason("failed"));
    SSL_set_app_data(s->ssl_, s.get());
    if (SSL_SESSION* earlier = tc.take_session(s->key_)) {
      SSL_set_session(s->ssl_, earlier);  // takes its own reference
      SSL_SESSION_free(earlier);
    }
    BIO* bio = BIO_new(tc.method());
    if (bio == nullptr) return Error(ErrorKind::transient, "TLS with " + server + ": BIO_new: " + tls_reason("failed"));
    BIO_set_data(bio, s.get());
    BIO_set_init(bio, 1);
    SSL_set_bio(s->ssl_, bio, bio);  // the SSL owns the BIO now
    SSL_set_connect_state(s->ssl_);
    unsigned char ip[16];
    const bool is_ip = ::inet_pton(AF_INET, name.c_str(), ip) == 1 || ::inet_pton(AF_INET6, name.c_str(), ip) == 1;
    if (!is_ip && !name.empty()) SSL_set_tlsext_host_name(s->ssl_, name.c_str());
    if (tc.verify() && !name.empty()) {
      const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl_), name.c_str())
                           : SSL_set1_host(s->ssl_, name.c_str());
      if (ok != 1) return Error(ErrorKind::permanent, "tls_server_name: cannot use '" + name + "': " + tls_reason("invalid"));
    }
    for (;;) {
      ERR_clear_error();
      s->errno_ = 0;
      const int rc = SSL_connect(s->ssl_);
      if (rc == 1) break;
      const int err = SSL_get_error(s->ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        auto ready = wait_fd(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (!ready) return std::move(ready).error();
        if (*ready == 0) {
          return Error(ErrorKind::timeout, "TLS handshake with " + server +
                                               " timed out (connect_timeout; does the server speak TLS?)");
        }
        continue;
      }
      return s->handshake_error(err, name, server);
    }
    const bool resumed = SSL_session_reused(s->ssl_) == 1;
    tc.count_handshake(resumed);
    // TLS 1.2 issues no new session when one is resumed: keep it for the
    // next connection (TLS 1.3 sends fresh tickets instead).
    if (resumed && SSL_version(s->ssl_) < TLS1_3_VERSION) {
      if (SSL_SESSION* again = SSL_get1_session(s->ssl_)) tc.keep_session(s->key_, again);
    }
    return s;
  }

  ~TlsSession() {
    if (ssl_ != nullptr) SSL_free(ssl_);  // no close_notify: like a plaintext close
  }
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// Bytes waiting inside OpenSSL (decrypted, or whole records read ahead):
  /// readable without the socket becoming ready, so callers check this
  /// before poll(). A partial record read ahead does not count once a read
  /// found it incomplete (the rest must come through the socket).
  bool pending() const noexcept { return SSL_pending(ssl_) > 0 || (!starved_ && SSL_has_pending(ssl_) == 1); }

  /// Reads what is available without waiting: bytes read, 0 when none.
  Result<std::size_t> try_read(char* buf, std::size_t cap) {
    short want = 0;
    return read_once(buf, cap, want);
  }

  /// Reads at least one byte, sleeping in recv() bounded by the socket's
  /// SO_RCVTIMEO (the caller arms it to end by deadline): bytes read, 0
  /// when that timeout passed first.
  Result<std::size_t> read_blocking(char* buf, std::size_t cap, Deadline deadline) {
    block_ = true;
    short want = 0;
    auto n = read_once(buf, cap, want);
    block_ = false;
    if (n && *n == 0 && want == POLLOUT) {  // OpenSSL must send first (a key update's answer)
      auto ready = wait_fd(fd_, POLLOUT, deadline);
      if (!ready) return std::move(ready).error();
    }
    return n;
  }

  /// Busy-polls for bytes until `until` (see recv_spin): bytes read, 0 when
  /// none came in time; spun false when the SpinGate was full.
  Result<std::size_t> read_spin(char* buf, std::size_t cap, Clock::time_point until, bool& spun) {
    const SpinTicket ticket;
    spun = ticket.held();
    if (!spun) return std::size_t{0};
    for (unsigned tries = 1;; ++tries) {
      short want = 0;
      auto n = read_once(buf, cap, want);
      if (!n || *n > 0) return n;
      if ((tries & 7) == 0 && Clock::now() >= until) return std::size_t{0};
    }
  }

  /// Writes what the socket takes now: bytes written (0 when it would
  /// block; the next call must start at the same bytes).
  Result<std::size_t> try_write(const char* data, std::size_t n) {
    short want = 0;
    return write_once(data, n, want);
  }

  /// Writes all n bytes before the deadline.
  Result<void> write_all(const char* data, std::size_t n, Deadline deadline) {
    while (n > 0) {
      short want = 0;
      auto w = write_once(data, n, want);
      if (!w) return std::move(w).error();
      if (*w == 0) {
        auto ready = wait_fd(fd_, want, deadline);
        if (!ready) return std::move(ready).error();
        if (*ready == 0) return Error(ErrorKind::timeout, "send timed out");
        continue;
      }
      data += *w;
      n -= *w;
    }
    return {};
  }

  /// Whether an idle connection is unusable: the peer closed it or sent
  /// application bytes nobody asked for. TLS records that carry no data
  /// (session tickets) are consumed. Never blocks.
  bool idle_broken() {
    if (pending()) return true;
    if (!idle_connection_broken(fd_)) return false;
    char probe[64];
    short want = 0;
    auto n = read_once(probe, sizeof probe, want);
    return !n || *n > 0;
  }

  // BIO callbacks (the BIO's data is the session).
  static int bio_write(BIO* b, const char* data, int n) {
    auto* s = static_cast<TlsSession*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    for (;;) {
      const ssize_t rc = ::send(s->fd_, data, static_cast<std::size_t>(n), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (rc >= 0) return static_cast<int>(rc);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
      s->errno_ = errno;
      return -1;
    }
  }
  static int bio_read(BIO* b, char* buf, int n) {
    auto* s = static_cast<TlsSession*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    for (;;) {
      const ssize_t rc = ::recv(s->fd_, buf, static_cast<std::size_t>(n), s->block_ ? 0 : MSG_DONTWAIT);
      if (rc >= 0) return static_cast<int>(rc);  // 0: the peer closed
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
      s->errno_ = errno;
      return -1;
    }
  }

 private:
  friend class TlsContext;
  TlsSession(int fd, TlsContext& tc, std::string key) : fd_(fd), tc_(&tc), key_(std::move(key)) {}

  // SSL_get_error() needs the thread's error queue empty before the call;
  // peeking is cheaper than clearing an empty queue on every read and write.
  static void clear_errors() noexcept {
    if (ERR_peek_error() != 0) ERR_clear_error();
  }

  Result<std::size_t> read_once(char* buf, std::size_t cap, short& want) {
    clear_errors();
    errno_ = 0;
    const int ask = cap > 0x40000000u ? 0x40000000 : static_cast<int>(cap);
    const int rc = SSL_read(ssl_, buf, ask);
    if (rc > 0) {
      starved_ = false;
      return static_cast<std::size_t>(rc);
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      starved_ = err == SSL_ERROR_WANT_READ;
      return std::size_t{0};
    }
    return io_error(err, "recv");
  }

  Result<std::size_t> write_once(const char* data, std::size_t n, short& want) {
    clear_errors();
    errno_ = 0;
    const int ask = n > 0x40000000u ? 0x40000000 : static_cast<int>(n);
    const int rc = SSL_write(ssl_, data, ask);
    if (rc > 0) return static_cast<std::size_t>(rc);
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      return std::size_t{0};
    }
    if (err == SSL_ERROR_SYSCALL) {
      // The server may have refused us with an alert and closed before this
      // write (TLS 1.3 checks the client certificate after the client's
      // handshake ends): the alert, when it came, says why.
      const int saved = errno_;
      char scratch[256];
      ERR_clear_error();
      const int r = SSL_read(ssl_, scratch, sizeof scratch);
      if (r <= 0 && SSL_get_error(ssl_, r) == SSL_ERROR_SSL &&
          tls_client_cert_refused(ERR_GET_REASON(ERR_peek_last_error()))) {
        return io_error(SSL_ERROR_SSL, "recv");
      }
      ERR_clear_error();
      errno_ = saved;
    }
    return io_error(err, "send");
  }

  Error io_error(int err, const char* what) {
    if (err == SSL_ERROR_ZERO_RETURN) return Error(ErrorKind::transient, "connection closed by server (TLS close_notify)");
    if (err == SSL_ERROR_SYSCALL) {
      ERR_clear_error();
      if (errno_ != 0) return sys_error(ErrorKind::transient, what, errno_);
      return Error(ErrorKind::transient, "connection closed by server");
    }
    const unsigned long e = ERR_peek_last_error();
    const int reason = ERR_GET_REASON(e);
    std::string m = tls_reason("TLS protocol error");
    if (tls_client_cert_refused(reason)) {
      return Error(ErrorKind::authentication, "the server refused the TLS client certificate (" + m +
                                                  "; set tls_cert_file and tls_key_file to a certificate it trusts)");
    }
    return Error(ErrorKind::transient, "TLS error: " + m);
  }

  Error handshake_error(int err, const std::string& name, const std::string& server) {
    const long v = SSL_get_verify_result(ssl_);
    if (err == SSL_ERROR_SSL && v != X509_V_OK) {
      ERR_clear_error();
      std::string m = "TLS certificate verification failed for " + server + ": " + X509_verify_cert_error_string(v);
      if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        m += " (the certificate is not for '" + name + "'; see tls_server_name)";
      } else if (v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                 v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) {
        m += " (issuer not trusted; see tls_ca_file)";
      }
      return Error(ErrorKind::authentication, std::move(m));
    }
    if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
      ERR_clear_error();
      std::string m = "TLS handshake with " + server + " failed: ";
      if (errno_ != 0) return Error(ErrorKind::transient, m + errno_text(errno_) + " (does the server speak TLS?)");
      return Error(ErrorKind::transient, m + "the server closed the connection (does it speak TLS?)");
    }
    const int reason = ERR_GET_REASON(ERR_peek_last_error());
    std::string why = tls_reason("TLS protocol error");
    if (tls_client_cert_refused(reason)) {
      return Error(ErrorKind::authentication, "TLS handshake with " + server + ": the server refused the client certificate (" +
                                                  why + "; set tls_cert_file and tls_key_file)");
    }
    return Error(ErrorKind::transient, "TLS handshake with " + server + " failed: " + why + " (does the server speak TLS?)");
  }

  int fd_;
  TlsContext* tc_;
  std::string key_;  // the server and the certificate name: whose sessions resume here
  int errno_ = 0;
  bool block_ = false;    // the next BIO read may sleep in recv()
  bool starved_ = false;  // the last read needed bytes from the socket
  SSL* ssl_ = nullptr;
};

// A session (TLS 1.3: a ticket, after the handshake) to resume later.
inline int TlsContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* s = static_cast<TlsSession*>(SSL_get_app_data(ssl));
  if (s == nullptr) return 0;
  s->tc_->keep_session(s->key_, session);
  return 1;  // the reference is kept
}

inline BIO_METHOD* TlsContext::make_method() {
  BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cachekit socket");
  if (m == nullptr) return nullptr;
  BIO_meth_set_write(m, &TlsSession::bio_write);
  BIO_meth_set_read(m, &TlsSession::bio_read);
  BIO_meth_set_ctrl(m, [](BIO*, int cmd, long, void*) -> long { return cmd == BIO_CTRL_FLUSH ? 1 : 0; });
  BIO_meth_set_create(m, [](BIO* b) -> int {
    BIO_set_init(b, 0);
    return 1;
  });
  BIO_meth_set_destroy(m, [](BIO* b) -> int {
    BIO_set_data(b, nullptr);
    BIO_set_init(b, 0);
    return 1;
  });
  return m;
}

}  // namespace net
}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_OPENSSL

#endif  // CACHEKIT_DETAIL_VIEW
