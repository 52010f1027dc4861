#pragma once
// Detects that the process forked since the guard was armed, so a child
// never uses its parent's sockets. With MADV_WIPEONFORK (Linux 4.14+) the
// check is a memory read: the kernel zeroes the page in the child. Elsewhere
// it falls back to comparing getpid().

#include <cstddef>

#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "../config.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {
namespace net {

class ForkGuard {
 public:
  ForkGuard() noexcept : pid_(::getpid()) {
#ifdef MADV_WIPEONFORK
    void* p = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      if (::madvise(p, kPage, MADV_WIPEONFORK) == 0) {
        page_ = static_cast<volatile unsigned char*>(p);
        *page_ = 1;
      } else {
        ::munmap(p, kPage);
      }
    }
#endif
  }
  ~ForkGuard() {
    if (page_ != nullptr) ::munmap(const_cast<unsigned char*>(page_), kPage);
  }
  ForkGuard(const ForkGuard&) = delete;
  ForkGuard& operator=(const ForkGuard&) = delete;

  /// True once in a process forked after the guard was (re)armed.
  bool forked() const noexcept {
    if (page_ != nullptr) return *page_ == 0;
    return ::getpid() != pid_;
  }
  /// Arms the guard for the current process.
  void rearm() noexcept {
    pid_ = ::getpid();
    if (page_ != nullptr) *page_ = 1;
  }
  /// Process id when last armed.
  int pid() const noexcept { return static_cast<int>(pid_); }

 private:
  static constexpr std::size_t kPage = 4096;
  volatile unsigned char* page_ = nullptr;
  pid_t pid_;
};

}  // namespace net
}  // namespace detail
CACHEKIT_END_NAMESPACE
