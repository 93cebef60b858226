// WASI preview1 (wasi_snapshot_preview1) for wasi-libc programs, on Linux
// system calls. Struct layouts and constants follow the WASI preview1
// witx definitions; offsets are spelled out where they are written.
#include "wasi.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "guest.hpp"

namespace switchyard_wasm {

BlockingHooks blocking_hooks;

namespace {

// WASI errno values (the same as wasi-libc's <errno.h>).
enum : uint32_t {
  W_SUCCESS = 0,
  W_2BIG = 1,
  W_ACCES = 2,
  W_AGAIN = 6,
  W_BADF = 8,
  W_BUSY = 10,
  W_EXIST = 20,
  W_FAULT = 21,
  W_FBIG = 22,
  W_INTR = 27,
  W_INVAL = 28,
  W_IO = 29,
  W_ISDIR = 31,
  W_LOOP = 32,
  W_MFILE = 33,
  W_MLINK = 34,
  W_NAMETOOLONG = 37,
  W_NFILE = 41,
  W_NODEV = 43,
  W_NOENT = 44,
  W_NOMEM = 48,
  W_NOSPC = 51,
  W_NOSYS = 52,
  W_NOTDIR = 54,
  W_NOTEMPTY = 55,
  W_NOTSUP = 58,
  W_NOTTY = 59,
  W_NXIO = 60,
  W_OVERFLOW = 61,
  W_PERM = 63,
  W_PIPE = 64,
  W_RANGE = 68,
  W_ROFS = 69,
  W_SPIPE = 70,
  W_TXTBSY = 74,
  W_XDEV = 75,
  W_NOTCAPABLE = 76,
};

uint32_t wasi_errno(int host) {
  switch (host) {
    case 0:
      return W_SUCCESS;
    case E2BIG:
      return W_2BIG;
    case EACCES:
      return W_ACCES;
    case EAGAIN:
      return W_AGAIN;
    case EBADF:
      return W_BADF;
    case EBUSY:
      return W_BUSY;
    case EEXIST:
      return W_EXIST;
    case EFAULT:
      return W_FAULT;
    case EFBIG:
      return W_FBIG;
    case EINTR:
      return W_INTR;
    case EINVAL:
      return W_INVAL;
    case EISDIR:
      return W_ISDIR;
    case ELOOP:
      return W_LOOP;
    case EMFILE:
      return W_MFILE;
    case EMLINK:
      return W_MLINK;
    case ENAMETOOLONG:
      return W_NAMETOOLONG;
    case ENFILE:
      return W_NFILE;
    case ENODEV:
      return W_NODEV;
    case ENOENT:
      return W_NOENT;
    case ENOMEM:
      return W_NOMEM;
    case ENOSPC:
      return W_NOSPC;
    case ENOSYS:
      return W_NOSYS;
    case ENOTDIR:
      return W_NOTDIR;
    case ENOTEMPTY:
      return W_NOTEMPTY;
    case EOPNOTSUPP:
      return W_NOTSUP;
    case ENOTTY:
      return W_NOTTY;
    case ENXIO:
      return W_NXIO;
    case EOVERFLOW:
      return W_OVERFLOW;
    case EPERM:
      return W_PERM;
    case EPIPE:
      return W_PIPE;
    case ERANGE:
      return W_RANGE;
    case EROFS:
      return W_ROFS;
    case ESPIPE:
      return W_SPIPE;
    case ETXTBSY:
      return W_TXTBSY;
    case EXDEV:
      return W_NOTCAPABLE;  // openat2 RESOLVE_BENEATH: the path leaves the preopen
    default:
      return W_IO;
  }
}
uint32_t last_errno() {
  return wasi_errno(errno);
}

// Filetypes.
enum : uint8_t {
  FT_UNKNOWN = 0,
  FT_BLOCK = 1,
  FT_CHAR = 2,
  FT_DIR = 3,
  FT_REGULAR = 4,
  FT_SOCKET_STREAM = 6,
  FT_SYMLINK = 7
};

uint8_t filetype_of(mode_t mode) {
  if (S_ISREG(mode)) return FT_REGULAR;
  if (S_ISDIR(mode)) return FT_DIR;
  if (S_ISCHR(mode)) return FT_CHAR;
  if (S_ISBLK(mode)) return FT_BLOCK;
  if (S_ISLNK(mode)) return FT_SYMLINK;
  if (S_ISSOCK(mode)) return FT_SOCKET_STREAM;
  return FT_UNKNOWN;
}

uint8_t filetype_of_dirent(unsigned char type) {
  switch (type) {
    case DT_REG:
      return FT_REGULAR;
    case DT_DIR:
      return FT_DIR;
    case DT_CHR:
      return FT_CHAR;
    case DT_BLK:
      return FT_BLOCK;
    case DT_LNK:
      return FT_SYMLINK;
    case DT_SOCK:
      return FT_SOCKET_STREAM;
    default:
      return FT_UNKNOWN;
  }
}

uint64_t nanoseconds(const timespec& t) {
  return uint64_t(t.tv_sec) * 1000000000u + uint64_t(t.tv_nsec);
}

constexpr uint64_t kAllRights = (uint64_t(1) << 29) - 1;
constexpr uint64_t kRightRead = uint64_t(1) << 1, kRightWrite = uint64_t(1) << 6, kRightReaddir = uint64_t(1) << 14;

uint32_t a32(const uint64_t* a, int i) {
  return uint32_t(a[i]);
}

// The guest's string at [pointer, pointer + length), or false (EFAULT, or
// EINVAL for an embedded NUL).
uint32_t guest_path(Guest& g, uint32_t pointer, uint32_t length, std::string& out) {
  if (!g.memory().valid(pointer, length)) return W_FAULT;
  out.assign(reinterpret_cast<const char*>(g.memory().at(pointer)), length);
  if (out.find('\0') != std::string::npos) return W_INVAL;
  if (out.empty()) return W_NOENT;
  return W_SUCCESS;
}

// Opens `path` below `dirfd` and nowhere else (see wasi.hpp).
int open_beneath(int dirfd, const std::string& path, uint64_t flags, mode_t mode) {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC;
  how.mode = ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  return int(fd);
}

// A directory fd below the preopen for the parent of `path`, and the last
// component in `leaf`. The leaf is never "." or ".." (a path that ends in
// one names no entry its parent could change).
class Parent {
 public:
  Parent(int dirfd, std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    leaf = slash == std::string::npos ? path : path.substr(slash + 1);
    if (leaf == ".." || leaf == "." || leaf.empty()) {
      error = leaf == ".." ? W_NOTCAPABLE : W_INVAL;
      return;
    }
    fd = open_beneath(dirfd, dir, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) error = last_errno();
  }
  ~Parent() {
    if (fd >= 0) ::close(fd);
  }
  Parent(const Parent&) = delete;
  Parent& operator=(const Parent&) = delete;
  int fd = -1;
  uint32_t error = W_SUCCESS;
  std::string leaf;
};

void write_filestat(Guest& g, uint32_t out, const struct stat& st) {
  GuestMemory& m = g.memory();
  std::memset(m.at(out), 0, 64);
  m.put_u64(out + 0, st.st_dev);
  m.put_u64(out + 8, st.st_ino);
  m.put_u8(out + 16, filetype_of(st.st_mode));
  m.put_u64(out + 24, st.st_nlink);
  m.put_u64(out + 32, uint64_t(st.st_size));
  m.put_u64(out + 40, nanoseconds(st.st_atim));
  m.put_u64(out + 48, nanoseconds(st.st_mtim));
  m.put_u64(out + 56, nanoseconds(st.st_ctim));
}

// Reads the guest's iovec array into host iovecs; EFAULT if any is out of bounds.
uint32_t gather(Guest& g, uint32_t iovs, uint32_t count, std::vector<iovec>& out) {
  GuestMemory& m = g.memory();
  if (count > 1024 || !m.valid(iovs, uint64_t(count) * 8)) return W_FAULT;
  out.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t base = m.u32(iovs + i * 8), length = m.u32(iovs + i * 8 + 4);
    if (!m.valid(base, length)) return W_FAULT;
    out[i].iov_base = m.at(base);
    out[i].iov_len = length;
  }
  return W_SUCCESS;
}

#define FD_OR_BADF(name, number)        \
  Wasi::Fd* name = g.wasi().fd(number); \
  if (name == nullptr) return W_BADF;

// ---- args, environ -----------------------------------------------------------

uint32_t strings_sizes(Guest& g, const std::vector<std::string>& strings, uint32_t count_out, uint32_t size_out) {
  if (!g.memory().valid(count_out, 4) || !g.memory().valid(size_out, 4)) return W_FAULT;
  uint64_t size = 0;
  for (const auto& s : strings) size += s.size() + 1;
  g.memory().put_u32(count_out, uint32_t(strings.size()));
  g.memory().put_u32(size_out, uint32_t(size));
  return W_SUCCESS;
}

uint32_t strings_get(Guest& g, const std::vector<std::string>& strings, uint32_t pointers, uint32_t buffer) {
  GuestMemory& m = g.memory();
  uint64_t size = 0;
  for (const auto& s : strings) size += s.size() + 1;
  if (!m.valid(pointers, strings.size() * 4) || !m.valid(buffer, size)) return W_FAULT;
  uint32_t at = buffer;
  for (size_t i = 0; i < strings.size(); ++i) {
    m.put_u32(pointers + uint32_t(i) * 4, at);
    std::memcpy(m.at(at), strings[i].c_str(), strings[i].size() + 1);
    at += uint32_t(strings[i].size() + 1);
  }
  return W_SUCCESS;
}

uint64_t args_sizes_get(Guest& g, const uint64_t* a) {
  return strings_sizes(g, g.wasi().args, a32(a, 0), a32(a, 1));
}
uint64_t args_get(Guest& g, const uint64_t* a) {
  return strings_get(g, g.wasi().args, a32(a, 0), a32(a, 1));
}
uint64_t environ_sizes_get(Guest& g, const uint64_t* a) {
  return strings_sizes(g, g.wasi().env, a32(a, 0), a32(a, 1));
}
uint64_t environ_get(Guest& g, const uint64_t* a) {
  return strings_get(g, g.wasi().env, a32(a, 0), a32(a, 1));
}

// ---- clocks, random, scheduling, exit ------------------------------------------

bool host_clock(uint32_t id, clockid_t& out) {
  switch (id) {
    case 0:
      out = CLOCK_REALTIME;
      return true;
    case 1:
      out = CLOCK_MONOTONIC;
      return true;
    case 2:
      out = CLOCK_PROCESS_CPUTIME_ID;
      return true;
    case 3:
      out = CLOCK_THREAD_CPUTIME_ID;
      return true;
    default:
      return false;
  }
}

// clock_res_get, clock_time_get: `query` (clock_getres or clock_gettime) on
// the clock a[0] names; nanoseconds go to a[out_at].
uint64_t clock_query(Guest& g, const uint64_t* a, unsigned out_at, int (*query)(clockid_t, timespec*)) {
  clockid_t clock;
  if (!host_clock(a32(a, 0), clock)) return W_INVAL;
  if (!g.memory().valid(a32(a, out_at), 8)) return W_FAULT;
  timespec t;
  if (query(clock, &t) != 0) return last_errno();
  g.memory().put_u64(a32(a, out_at), nanoseconds(t));
  return W_SUCCESS;
}

uint64_t clock_res_get(Guest& g, const uint64_t* a) { return clock_query(g, a, 1, ::clock_getres); }

uint64_t clock_time_get(Guest& g, const uint64_t* a) { return clock_query(g, a, 2, ::clock_gettime); }

uint64_t random_get(Guest& g, const uint64_t* a) {
  const uint32_t buffer = a32(a, 0), length = a32(a, 1);
  if (!g.memory().valid(buffer, length)) return W_FAULT;
  for (uint32_t done = 0; done < length;) {
    const ssize_t n = getrandom(g.memory().at(buffer + done), length - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    done += uint32_t(n);
  }
  return W_SUCCESS;
}

uint64_t sched_yield(Guest& g, const uint64_t*) {
  if (blocking_hooks.yield != nullptr) {
    g.before_blocking();
    blocking_hooks.yield();
    g.after_blocking();
  }
  return W_SUCCESS;
}

uint64_t proc_exit(Guest& g, const uint64_t* a) {
  g.terminate(int(a32(a, 0) & 0xff), "");
  return 0;
}

void sleep_for(Guest& g, uint64_t ns) {
  if (blocking_hooks.sleep_ns != nullptr) {
    g.before_blocking();
    blocking_hooks.sleep_ns(ns);
    g.after_blocking();
    return;
  }
  timespec t{time_t(ns / 1000000000u), long(ns % 1000000000u)};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

// poll_oneoff: subscriptions are 48 bytes (userdata u64 @0, tag u8 @8, then
// clock: id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40; or
// fd: fd u32 @16); events are 32 bytes (userdata @0, error u16 @8, type u8
// @10, nbytes u64 @16, flags u16 @24).
uint64_t poll_oneoff(Guest& g, const uint64_t* a) {
  const uint32_t in = a32(a, 0), out = a32(a, 1), count = a32(a, 2), nevents_out = a32(a, 3);
  GuestMemory& m = g.memory();
  if (count == 0) return W_INVAL;
  if (!m.valid(in, uint64_t(count) * 48) || !m.valid(out, uint64_t(count) * 32) || !m.valid(nevents_out, 4)) {
    return W_FAULT;
  }
  struct Sub {
    uint64_t userdata;
    uint8_t tag;
    uint64_t deadline = 0;  // monotonic ns, clocks only
    uint32_t fd = 0;
    uint16_t error = 0;
  };
  std::vector<Sub> subs(count);
  std::vector<pollfd> pfds;
  std::vector<size_t> pfd_sub;
  timespec now_ts;
  clock_gettime(CLOCK_MONOTONIC, &now_ts);
  const uint64_t now = nanoseconds(now_ts);
  uint64_t earliest = std::numeric_limits<uint64_t>::max();
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t s = in + i * 48;
    Sub& sub = subs[i];
    sub.userdata = m.u64(s);
    sub.tag = *m.at(s + 8);
    if (sub.tag == 0) {
      const uint32_t id = m.u32(s + 16);
      const uint64_t timeout = m.u64(s + 24);
      const bool absolute = (m.u32(s + 40) & 0xffff) & 1;
      clockid_t clock;
      if (!host_clock(id, clock)) {
        sub.error = W_INVAL;
        earliest = now;
        continue;
      }
      uint64_t relative = timeout;
      if (absolute) {
        timespec t;
        clock_gettime(clock, &t);
        relative = timeout > nanoseconds(t) ? timeout - nanoseconds(t) : 0;
      }
      sub.deadline = now + relative;
      earliest = std::min(earliest, sub.deadline);
    } else if (sub.tag == 1 || sub.tag == 2) {
      sub.fd = m.u32(s + 16);
      Wasi::Fd* fd = g.wasi().fd(sub.fd);
      if (fd == nullptr) {
        sub.error = W_BADF;
        earliest = now;
        continue;
      }
      pfds.push_back({fd->host, short(sub.tag == 1 ? POLLIN : POLLOUT), 0});
      pfd_sub.push_back(i);
    } else {
      return W_INVAL;
    }
  }
  if (pfds.empty()) {
    // Only clocks: sleep (an Executor parks just this guest meanwhile).
    if (earliest > now) sleep_for(g, earliest - now);
  } else {
    int timeout_ms = -1;
    if (earliest != std::numeric_limits<uint64_t>::max()) {
      timeout_ms = earliest > now ? int(std::min<uint64_t>((earliest - now + 999999) / 1000000, 1 << 30)) : 0;
    }
    int ready;
    do {
      ready = ::poll(pfds.data(), pfds.size(), timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) return last_errno();
  }
  clock_gettime(CLOCK_MONOTONIC, &now_ts);
  const uint64_t after = nanoseconds(now_ts);
  uint32_t events = 0;
  auto emit = [&](const Sub& sub, uint16_t error, uint64_t nbytes, uint16_t flags) {
    const uint32_t e = out + events * 32;
    std::memset(m.at(e), 0, 32);
    m.put_u64(e, sub.userdata);
    m.put_u16(e + 8, error);
    m.put_u8(e + 10, sub.tag);
    m.put_u64(e + 16, nbytes);
    m.put_u16(e + 24, flags);
    ++events;
  };
  for (size_t k = 0; k < pfds.size(); ++k) {
    if (pfds[k].revents == 0) continue;
    const uint16_t hangup = (pfds[k].revents & POLLHUP) ? 1 : 0;
    const uint16_t error = (pfds[k].revents & POLLNVAL) ? uint16_t(W_BADF) : uint16_t(0);
    emit(subs[pfd_sub[k]], error, 0, hangup);
  }
  for (const Sub& sub : subs) {
    if (sub.error != 0) {
      emit(sub, sub.error, 0, 0);
    } else if (sub.tag == 0 && sub.deadline <= after) {
      emit(sub, 0, 0, 0);
    }
  }
  m.put_u32(nevents_out, events);
  return W_SUCCESS;
}

// ---- file descriptors ----------------------------------------------------------

uint64_t fd_close(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  (void)fd;
  g.wasi().close_fd(a32(a, 0));
  return W_SUCCESS;
}

// fd_read, fd_write, fd_pread, fd_pwrite: `io` moves the bytes between the
// host fd and the guest's iovecs (a[1], a[2]); the count goes to a[count_at].
template <class Io>
uint64_t vectored(Guest& g, const uint64_t* a, unsigned count_at, Io io) {
  FD_OR_BADF(fd, a32(a, 0));
  std::vector<iovec> iov;
  if (uint32_t e = gather(g, a32(a, 1), a32(a, 2), iov)) return e;
  if (!g.memory().valid(a32(a, count_at), 4)) return W_FAULT;
  ssize_t n;
  do {
    n = io(fd->host, iov.data(), int(iov.size()));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return last_errno();
  g.memory().put_u32(a32(a, count_at), uint32_t(n));
  return W_SUCCESS;
}

uint64_t fd_read(Guest& g, const uint64_t* a) { return vectored(g, a, 3, ::readv); }

uint64_t fd_write(Guest& g, const uint64_t* a) { return vectored(g, a, 3, ::writev); }

uint64_t fd_pread(Guest& g, const uint64_t* a) {
  return vectored(g, a, 4, [at = off_t(a[3])](int fd, const iovec* iov, int n) { return ::preadv(fd, iov, n, at); });
}

uint64_t fd_pwrite(Guest& g, const uint64_t* a) {
  return vectored(g, a, 4, [at = off_t(a[3])](int fd, const iovec* iov, int n) { return ::pwritev(fd, iov, n, at); });
}

uint64_t fd_seek(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  const uint32_t whence = a32(a, 2);
  if (whence > 2) return W_INVAL;
  if (!g.memory().valid(a32(a, 3), 8)) return W_FAULT;
  static const int whences[] = {SEEK_SET, SEEK_CUR, SEEK_END};
  const off_t at = ::lseek(fd->host, off_t(int64_t(a[1])), whences[whence]);
  if (at < 0) return last_errno();
  g.memory().put_u64(a32(a, 3), uint64_t(at));
  return W_SUCCESS;
}

uint64_t fd_tell(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  if (!g.memory().valid(a32(a, 1), 8)) return W_FAULT;
  const off_t at = ::lseek(fd->host, 0, SEEK_CUR);
  if (at < 0) return last_errno();
  g.memory().put_u64(a32(a, 1), uint64_t(at));
  return W_SUCCESS;
}

uint64_t fd_sync(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  return ::fsync(fd->host) == 0 ? W_SUCCESS : last_errno();
}

// fdstat: filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16.
uint64_t fd_fdstat_get(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  const uint32_t out = a32(a, 1);
  if (!g.memory().valid(out, 24)) return W_FAULT;
  struct stat st;
  if (::fstat(fd->host, &st) != 0) return last_errno();
  const int flags = ::fcntl(fd->host, F_GETFL);
  uint16_t wasi_flags = 0;
  if (flags & O_APPEND) wasi_flags |= 1;
  if (flags & O_NONBLOCK) wasi_flags |= 4;
  std::memset(g.memory().at(out), 0, 24);
  g.memory().put_u8(out, filetype_of(st.st_mode));
  g.memory().put_u16(out + 2, wasi_flags);
  g.memory().put_u64(out + 8, kAllRights);
  g.memory().put_u64(out + 16, kAllRights);
  return W_SUCCESS;
}

uint64_t fd_fdstat_set_flags(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  const uint32_t wasi_flags = a32(a, 1);
  int flags = ::fcntl(fd->host, F_GETFL);
  if (flags < 0) return last_errno();
  flags &= ~(O_APPEND | O_NONBLOCK);
  if (wasi_flags & 1) flags |= O_APPEND;
  if (wasi_flags & 4) flags |= O_NONBLOCK;
  return ::fcntl(fd->host, F_SETFL, flags) == 0 ? W_SUCCESS : last_errno();
}

uint64_t fd_filestat_get(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  if (!g.memory().valid(a32(a, 1), 64)) return W_FAULT;
  struct stat st;
  if (::fstat(fd->host, &st) != 0) return last_errno();
  write_filestat(g, a32(a, 1), st);
  return W_SUCCESS;
}

uint64_t fd_filestat_set_size(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  return ::ftruncate(fd->host, off_t(a[1])) == 0 ? W_SUCCESS : last_errno();
}

// prestat: tag u8 @0 (0: directory), name length u32 @4.
uint64_t fd_prestat_get(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  if (!fd->preopen) return W_BADF;
  if (!g.memory().valid(a32(a, 1), 8)) return W_FAULT;
  std::memset(g.memory().at(a32(a, 1)), 0, 8);
  g.memory().put_u32(a32(a, 1) + 4, uint32_t(fd->guest_name.size()));
  return W_SUCCESS;
}

uint64_t fd_prestat_dir_name(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  if (!fd->preopen) return W_BADF;
  const uint32_t out = a32(a, 1), length = a32(a, 2);
  if (length < fd->guest_name.size()) return W_NAMETOOLONG;
  if (!g.memory().valid(out, fd->guest_name.size())) return W_FAULT;
  std::memcpy(g.memory().at(out), fd->guest_name.data(), fd->guest_name.size());
  return W_SUCCESS;
}

// dirent: next cookie u64 @0, inode u64 @8, name length u32 @16, type u8 @20,
// then the name. Cookies are positions in a listing read when cookie 0 asks.
uint64_t fd_readdir(Guest& g, const uint64_t* a) {
  FD_OR_BADF(fd, a32(a, 0));
  const uint32_t buffer = a32(a, 1), length = a32(a, 2), used_out = a32(a, 4);
  const uint64_t cookie = a[3];
  GuestMemory& m = g.memory();
  if (!m.valid(buffer, length) || !m.valid(used_out, 4)) return W_FAULT;
  if (fd->dir == nullptr) {
    const int copy = ::openat(fd->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0) return last_errno();
    fd->dir = ::fdopendir(copy);
    if (fd->dir == nullptr) {
      const uint32_t e = last_errno();
      ::close(copy);
      return e;
    }
  }
  ::rewinddir(fd->dir);
  uint64_t position = 0;
  uint32_t used = 0;
  errno = 0;
  while (dirent* entry = ::readdir(fd->dir)) {
    if (position++ < cookie) continue;
    const uint32_t name_length = uint32_t(std::strlen(entry->d_name));
    uint8_t header[24] = {};
    const uint64_t next = position, inode = entry->d_ino;
    std::memcpy(header, &next, 8);
    std::memcpy(header + 8, &inode, 8);
    std::memcpy(header + 16, &name_length, 4);
    header[20] = filetype_of_dirent(entry->d_type);
    const uint32_t header_part = std::min<uint32_t>(24, length - used);
    std::memcpy(m.at(buffer + used), header, header_part);
    used += header_part;
    const uint32_t name_part = std::min<uint32_t>(name_length, length - used);
    std::memcpy(m.at(buffer + used), entry->d_name, name_part);
    used += name_part;
    if (used == length) break;
  }
  m.put_u32(used_out, used);
  return W_SUCCESS;
}

uint64_t fd_renumber(Guest& g, const uint64_t* a) {
  FD_OR_BADF(from, a32(a, 0));
  FD_OR_BADF(to, a32(a, 1));
  if (::dup3(from->host, to->host, O_CLOEXEC) < 0) return last_errno();
  to->preopen = false;
  to->directory = from->directory;
  g.wasi().close_fd(a32(a, 0));
  return W_SUCCESS;
}

// ---- paths -----------------------------------------------------------------------

#define PRE_DIR(name, number)           \
  Wasi::Fd* name = g.wasi().fd(number); \
  if (name == nullptr) return W_BADF;   \
  if (!name->directory) return W_NOTDIR;

uint64_t path_open(Guest& g, const uint64_t* a) {
  PRE_DIR(dir, a32(a, 0));
  const uint32_t lookup = a32(a, 1), oflags = a32(a, 4), fdflags = a32(a, 7), fd_out = a32(a, 8);
  const uint64_t rights = a[5];
  std::string path;
  if (uint32_t e = guest_path(g, a32(a, 2), a32(a, 3), path)) return e;
  if (!g.memory().valid(fd_out, 4)) return W_FAULT;
  uint64_t flags = 0;
  const bool want_directory = oflags & 2;
  const bool write = rights & kRightWrite;
  const bool read = rights & (kRightRead | kRightReaddir);
  if (want_directory) {
    flags = O_RDONLY | O_DIRECTORY;
  } else if (write && read) {
    flags = O_RDWR;
  } else if (write) {
    flags = O_WRONLY;
  } else {
    flags = O_RDONLY;
  }
  if (oflags & 1) flags |= O_CREAT;
  if (oflags & 4) flags |= O_EXCL;
  if (oflags & 8) flags |= O_TRUNC;
  if (fdflags & 1) flags |= O_APPEND;
  if (fdflags & 4) flags |= O_NONBLOCK;
  if (fdflags & (2 | 8 | 16)) flags |= O_SYNC;
  if ((lookup & 1) == 0) flags |= O_NOFOLLOW;
  int host = open_beneath(dir->host, path, flags, 0666);
  if (host < 0 && errno == EISDIR && !want_directory) {
    // A directory opened with write rights requested "just in case"
    // (wasi-libc asks for them with O_RDWR-less opens too): read-only.
    host = open_beneath(dir->host, path, (flags & ~uint64_t(O_ACCMODE)) | O_RDONLY, 0666);
  }
  if (host < 0) return last_errno();
  struct stat st;
  if (::fstat(host, &st) != 0) {
    const uint32_t e = last_errno();
    ::close(host);
    return e;
  }
  Wasi::Fd entry;
  entry.host = host;
  entry.directory = S_ISDIR(st.st_mode);
  g.memory().put_u32(fd_out, g.wasi().add_fd(entry));
  return W_SUCCESS;
}

uint64_t path_filestat_get(Guest& g, const uint64_t* a) {
  PRE_DIR(dir, a32(a, 0));
  const uint32_t lookup = a32(a, 1), out = a32(a, 4);
  std::string path;
  if (uint32_t e = guest_path(g, a32(a, 2), a32(a, 3), path)) return e;
  if (!g.memory().valid(out, 64)) return W_FAULT;
  const int fd = open_beneath(dir->host, path, O_PATH | ((lookup & 1) ? 0 : O_NOFOLLOW), 0);
  if (fd < 0) return last_errno();
  struct stat st;
  const int rc = ::fstat(fd, &st);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return wasi_errno(saved);
  write_filestat(g, out, st);
  return W_SUCCESS;
}

uint64_t path_create_directory(Guest& g, const uint64_t* a) {
  PRE_DIR(dir, a32(a, 0));
  std::string path;
  if (uint32_t e = guest_path(g, a32(a, 1), a32(a, 2), path)) return e;
  Parent parent(dir->host, path);
  if (parent.error) return parent.error;
  return ::mkdirat(parent.fd, parent.leaf.c_str(), 0777) == 0 ? W_SUCCESS : last_errno();
}

uint64_t path_remove_directory(Guest& g, const uint64_t* a) {
  PRE_DIR(dir, a32(a, 0));
  std::string path;
  if (uint32_t e = guest_path(g, a32(a, 1), a32(a, 2), path)) return e;
  Parent parent(dir->host, path);
  if (parent.error) return parent.error;
  return ::unlinkat(parent.fd, parent.leaf.c_str(), AT_REMOVEDIR) == 0 ? W_SUCCESS : last_errno();
}

uint64_t path_unlink_file(Guest& g, const uint64_t* a) {
  PRE_DIR(dir, a32(a, 0));
  std::string path;
  if (uint32_t e = guest_path(g, a32(a, 1), a32(a, 2), path)) return e;
  if (path.back() == '/') return W_ISDIR;
  Parent parent(dir->host, path);
  if (parent.error) return parent.error;
  return ::unlinkat(parent.fd, parent.leaf.c_str(), 0) == 0 ? W_SUCCESS : last_errno();
}

uint64_t path_rename(Guest& g, const uint64_t* a) {
  PRE_DIR(from_dir, a32(a, 0));
  PRE_DIR(to_dir, a32(a, 3));
  std::string from, to;
  if (uint32_t e = guest_path(g, a32(a, 1), a32(a, 2), from)) return e;
  if (uint32_t e = guest_path(g, a32(a, 4), a32(a, 5), to)) return e;
  Parent from_parent(from_dir->host, from), to_parent(to_dir->host, to);
  if (from_parent.error) return from_parent.error;
  if (to_parent.error) return to_parent.error;
  return ::renameat(from_parent.fd, from_parent.leaf.c_str(), to_parent.fd, to_parent.leaf.c_str()) == 0 ? W_SUCCESS
                                                                                                         : last_errno();
}

// The link's text is not checked: whatever it says, resolving it later
// stays below the preopen (see open_beneath).
uint64_t path_symlink(Guest& g, const uint64_t* a) {
  std::string target, path;
  if (uint32_t e = guest_path(g, a32(a, 0), a32(a, 1), target)) return e;
  PRE_DIR(dir, a32(a, 2));
  if (uint32_t e = guest_path(g, a32(a, 3), a32(a, 4), path)) return e;
  Parent parent(dir->host, path);
  if (parent.error) return parent.error;
  return ::symlinkat(target.c_str(), parent.fd, parent.leaf.c_str()) == 0 ? W_SUCCESS : last_errno();
}

uint64_t path_readlink(Guest& g, const uint64_t* a) {
  PRE_DIR(dir, a32(a, 0));
  std::string path;
  if (uint32_t e = guest_path(g, a32(a, 1), a32(a, 2), path)) return e;
  const uint32_t buffer = a32(a, 3), length = a32(a, 4), used_out = a32(a, 5);
  if (!g.memory().valid(buffer, length) || !g.memory().valid(used_out, 4)) return W_FAULT;
  Parent parent(dir->host, path);
  if (parent.error) return parent.error;
  const ssize_t n =
      ::readlinkat(parent.fd, parent.leaf.c_str(), reinterpret_cast<char*>(g.memory().at(buffer)), length);
  if (n < 0) return last_errno();
  g.memory().put_u32(used_out, uint32_t(n));
  return W_SUCCESS;
}

uint64_t not_supported(Guest&, const uint64_t*) {
  return W_NOSYS;
}

}  // namespace

Wasi::~Wasi() {
  for (uint32_t i = 0; i < fds_.size(); ++i) close_fd(i);
}

bool Wasi::init(const std::vector<std::string>& arguments, const std::vector<std::string>& environment,
                const std::vector<Preopen>& dirs, std::string& error) {
  args = arguments;
  env = environment;
  for (int i = 0; i < 3; ++i) {
    Fd stdio;
    stdio.host = i;
    stdio.owned = false;
    fds_.push_back(stdio);
  }
  for (const Preopen& dir : dirs) {
    const int host = ::open(dir.host.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (host < 0) {
      error = "--dir " + dir.host + ": " + std::strerror(errno);
      return false;
    }
    Fd entry;
    entry.host = host;
    entry.preopen = true;
    entry.directory = true;
    entry.guest_name = dir.guest;
    fds_.push_back(entry);
  }
  return true;
}

Wasi::Fd* Wasi::fd(uint32_t number) {
  if (number >= fds_.size() || fds_[number].host < 0) return nullptr;
  return &fds_[number];
}

uint32_t Wasi::add_fd(const Fd& entry) {
  for (uint32_t i = 3; i < fds_.size(); ++i) {
    if (fds_[i].host < 0) {
      fds_[i] = entry;
      return i;
    }
  }
  fds_.push_back(entry);
  return uint32_t(fds_.size() - 1);
}

void Wasi::close_fd(uint32_t number) {
  if (number >= fds_.size() || fds_[number].host < 0) return;
  Fd& entry = fds_[number];
  if (entry.dir != nullptr) ::closedir(entry.dir);
  if (entry.owned) ::close(entry.host);
  entry = Fd{};
}

const std::vector<HostFunction>& Wasi::functions() {
  static const char* const m = "wasi_snapshot_preview1";
  static const std::vector<HostFunction> table = {
      {m, "args_get", "ii", "i", args_get},
      {m, "args_sizes_get", "ii", "i", args_sizes_get},
      {m, "environ_get", "ii", "i", environ_get},
      {m, "environ_sizes_get", "ii", "i", environ_sizes_get},
      {m, "clock_res_get", "ii", "i", clock_res_get},
      {m, "clock_time_get", "iIi", "i", clock_time_get},
      {m, "fd_advise", "iIIi", "i", not_supported},
      {m, "fd_allocate", "iII", "i", not_supported},
      {m, "fd_close", "i", "i", fd_close},
      {m, "fd_datasync", "i", "i", fd_sync},
      {m, "fd_fdstat_get", "ii", "i", fd_fdstat_get},
      {m, "fd_fdstat_set_flags", "ii", "i", fd_fdstat_set_flags},
      {m, "fd_fdstat_set_rights", "iII", "i", not_supported},
      {m, "fd_filestat_get", "ii", "i", fd_filestat_get},
      {m, "fd_filestat_set_size", "iI", "i", fd_filestat_set_size},
      {m, "fd_filestat_set_times", "iIIi", "i", not_supported},
      {m, "fd_pread", "iiiIi", "i", fd_pread},
      {m, "fd_prestat_get", "ii", "i", fd_prestat_get},
      {m, "fd_prestat_dir_name", "iii", "i", fd_prestat_dir_name},
      {m, "fd_pwrite", "iiiIi", "i", fd_pwrite},
      {m, "fd_read", "iiii", "i", fd_read},
      {m, "fd_readdir", "iiiIi", "i", fd_readdir},
      {m, "fd_renumber", "ii", "i", fd_renumber},
      {m, "fd_seek", "iIii", "i", fd_seek},
      {m, "fd_sync", "i", "i", fd_sync},
      {m, "fd_tell", "ii", "i", fd_tell},
      {m, "fd_write", "iiii", "i", fd_write},
      {m, "path_create_directory", "iii", "i", path_create_directory},
      {m, "path_filestat_get", "iiiii", "i", path_filestat_get},
      {m, "path_filestat_set_times", "iiiiIIi", "i", not_supported},
      {m, "path_link", "iiiiiii", "i", not_supported},
      {m, "path_open", "iiiiiIIii", "i", path_open},
      {m, "path_readlink", "iiiiii", "i", path_readlink},
      {m, "path_remove_directory", "iii", "i", path_remove_directory},
      {m, "path_rename", "iiiiii", "i", path_rename},
      {m, "path_symlink", "iiiii", "i", path_symlink},
      {m, "path_unlink_file", "iii", "i", path_unlink_file},
      {m, "poll_oneoff", "iiii", "i", poll_oneoff},
      {m, "proc_exit", "i", "", proc_exit},
      {m, "proc_raise", "i", "i", not_supported},
      {m, "random_get", "ii", "i", random_get},
      {m, "sched_yield", "", "i", sched_yield},
      {m, "sock_accept", "iii", "i", not_supported},
      {m, "sock_recv", "iiiiii", "i", not_supported},
      {m, "sock_send", "iiiii", "i", not_supported},
      {m, "sock_shutdown", "ii", "i", not_supported},
  };
  return table;
}

}  // namespace switchyard_wasm
