// TensorSink: a temporary file with tensors at fixed offsets, renamed onto its target when complete.
#include "io/tensor_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace trapetum {
namespace {

// Writes all n bytes at offset, retrying short writes and EINTR; 0 or errno.
int pwrite_all(int fd, const void* data, size_t n, uint64_t offset) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, off_t(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    p += w;
    n -= size_t(w);
    offset += uint64_t(w);
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<TensorSink>> TensorSink::create(const std::string& path, const std::string& header,
                                                       std::vector<Slot> slots, uint64_t file_size) {
  std::unique_ptr<TensorSink> s(new TensorSink());
  s->path_ = path;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& t = slots[i];
    if (t.name.empty()) return make_error(path, ": tensor ", i, " has an empty name");
    if (!s->index_.emplace(t.name, i).second) return make_error(path, ": duplicate tensor name '", t.name, "'");
    if (t.offset < header.size() || t.offset > file_size || t.nbytes > file_size - t.offset)
      return make_error(path, ": tensor '", t.name, "': data [", t.offset, ", ", t.offset + t.nbytes,
                        ") lies outside the data section [", header.size(), ", ", file_size, ")");
  }
  s->slots_ = std::move(slots);
  s->written_.assign(s->slots_.size(), 0);

  // An unnamed file (O_TMPFILE) vanishes by itself if the process dies, even by SIGKILL; it
  // is named only in finish(). Filesystems without O_TMPFILE get a named temporary file.
  std::string tmpl = path + ".tmp-XXXXXX";
  const std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
  s->anonymous_ = fd >= 0;
  if (fd < 0) fd = mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return make_error(path, ": cannot create a temporary file next to it: ", std::strerror(errno));
  s->fd_ = fd;
  if (!s->anonymous_) s->temp_path_ = tmpl;
  // mkostemp makes the file 0600 and O_TMPFILE applies the umask; a model file is as
  // readable as any other output.
  if (fchmod(fd, 0644) != 0) return make_error(s->tmp_name(), ": cannot set permissions: ", std::strerror(errno));
  if (ftruncate(fd, off_t(file_size)) != 0)
    return make_error(s->tmp_name(), ": cannot size the file to ", file_size, " bytes: ", std::strerror(errno));
  if (int e = pwrite_all(fd, header.data(), header.size(), 0))
    return make_error(s->tmp_name(), ": cannot write the ", header.size(), "-byte header: ", std::strerror(e));
  return s;
}

TensorSink::~TensorSink() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Status TensorSink::fail(Error e) {
  if (error_.empty()) error_ = e.message;
  return e;
}

Result<size_t> TensorSink::find(const std::string& name) {
  if (!error_.empty()) return make_error(error_);
  if (finished_) return make_error(path_, ": tensor '", name, "' written after finish()");
  auto it = index_.find(name);
  if (it == index_.end()) {
    (void)fail(make_error(path_, ": unknown tensor '", name, "' (not in the header)"));
    return make_error(error_);
  }
  return it->second;
}

Status TensorSink::write_tensor(const std::string& name, const void* data, size_t nbytes) {
  TRY(size_t i, find(name));
  if (written_[i] != 0) return fail(make_error(path_, ": tensor '", name, "' written twice"));
  if (nbytes != slots_[i].nbytes)
    return fail(make_error(path_, ": tensor '", name, "': got ", nbytes, " bytes, its dtype and shape need ",
                           slots_[i].nbytes));
  return write_part(name, data, nbytes);
}

Status TensorSink::write_part(const std::string& name, const void* data, size_t nbytes) {
  TRY(size_t i, find(name));
  const Slot& s = slots_[i];
  if (nbytes > s.nbytes - written_[i])
    return fail(make_error(path_, ": tensor '", name, "': ", written_[i] + nbytes, " bytes written, more than the ",
                           s.nbytes, " its dtype and shape need"));
  if (int e = pwrite_all(fd_, data, nbytes, s.offset + written_[i]))
    return fail(make_error(tmp_name(), ": writing tensor '", name, "': ", std::strerror(e)));
  written_[i] += nbytes;
  bytes_written_ += nbytes;
  return Ok{};
}

Status TensorSink::finish() {
  if (!error_.empty()) return make_error(error_);
  if (finished_) return make_error(path_, ": finish() called twice");
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (written_[i] != slots_[i].nbytes)
      return fail(make_error(path_, ": finish() before tensor '", slots_[i].name, "' was complete (", written_[i],
                             " of ", slots_[i].nbytes, " bytes written)"));
  }
  if (anonymous_) {
    // linkat cannot replace a file, so the finished file gets a unique name beside the target
    // first and is renamed onto it below.
    std::string tmpl = path_ + ".tmp-XXXXXX";
    const int named = mkostemp(tmpl.data(), O_CLOEXEC);
    if (named < 0) return fail(make_error(path_, ": cannot create a temporary name next to it: ", std::strerror(errno)));
    ::close(named);
    ::unlink(tmpl.c_str());
    const std::string proc = "/proc/self/fd/" + std::to_string(fd_);
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmpl.c_str(), AT_SYMLINK_FOLLOW) != 0)
      return fail(make_error(tmpl, ": cannot name the finished file: ", std::strerror(errno)));
    temp_path_ = tmpl;
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return fail(make_error(temp_path_, ": close failed: ", std::strerror(errno)));
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    return fail(make_error(path_, ": cannot rename ", temp_path_, " onto it: ", std::strerror(errno)));
  finished_ = true;
  return Ok{};
}

}  // namespace trapetum
