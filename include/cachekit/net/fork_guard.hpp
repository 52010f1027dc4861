#pragma once
// Detects that the process forked since the guard was armed, so a child
// never uses its parent's sockets. With MADV_WIPEONFORK (Linux 4.14+) the
// check is a memory read: the kernel zeroes the page in the child. Elsewhere
// it falls back to comparing getpid().

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>

#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>


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
        page_ = static_cast<unsigned char*>(p);
        __atomic_store_n(page_, static_cast<unsigned char>(1), __ATOMIC_RELAXED);
      } else {
        ::munmap(p, kPage);
      }
    }
#endif
  }
  ~ForkGuard() {
    if (page_ != nullptr) ::munmap(page_, kPage);
  }
  ForkGuard(const ForkGuard&) = delete;
  ForkGuard& operator=(const ForkGuard&) = delete;

  /// True once in a process forked after the guard was (re)armed.
  CACHEKIT_HOT_INLINE bool forked() const noexcept {
    if (page_ != nullptr) return __atomic_load_n(page_, __ATOMIC_RELAXED) == 0;
    return ::getpid() != __atomic_load_n(&pid_, __ATOMIC_RELAXED);
  }
  /// Arms the guard for the current process.
  void rearm() noexcept {
    __atomic_store_n(&pid_, ::getpid(), __ATOMIC_RELAXED);
    if (page_ != nullptr) __atomic_store_n(page_, static_cast<unsigned char>(1), __ATOMIC_RELAXED);
  }
  /// Process id when last armed.
  int pid() const noexcept { return static_cast<int>(__atomic_load_n(&pid_, __ATOMIC_RELAXED)); }

 private:
  static constexpr std::size_t kPage = 4096;
  unsigned char* page_ = nullptr;  // read and written atomically (a thread may race a rearm)
  pid_t pid_;
};

}  // namespace net
}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
