// SHA-256 through OpenSSL's EVP interface over the memory-mapped file.
#include "io/file_hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "core/mmap_file.h"

namespace trapetum {

Result<std::string> sha256_file(const std::string& path) {
  TRY(std::unique_ptr<MappedFile> f, MappedFile::open(path));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return make_error(path, ": SHA-256 failed");
  // In chunks, dropping each once hashed, so hashing a large model does not make it resident.
  constexpr size_t kChunk = size_t(64) << 20;
  for (size_t off = 0; off < f->size(); off += kChunk) {
    const size_t n = std::min(kChunk, f->size() - off);
    if (EVP_DigestUpdate(ctx.get(), f->data() + off, n) != 1) return make_error(path, ": SHA-256 failed");
    drop_mapped_pages(f->data() + off, n);
  }
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) return make_error(path, ": SHA-256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace trapetum
