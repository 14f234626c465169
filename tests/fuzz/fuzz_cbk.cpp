// Fuzz target: the .cbk reader (header, checksummed metadata and JSON index, bounds and
// outliers), then the model config and the tokenizer its metadata carries, as Model::open_cbk
// reads them.
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_util.h"
#include "io/cbk.h"
#include "io/cbk_index.h"
#include "model/config_json.h"
#include "tokenizer/spec_json.h"
#include "tokenizer_exercise.h"

namespace {

// Random bytes almost never carry a valid trailer checksum, which would stop every input at
// the header. Unless flags byte 12 is 0xff, the index is taken to run from the end of the
// metadata to the end of the input, and file_size and the checksum are recomputed.
void fix_header(std::string* bytes) {
  using trapetum::kCbkHeaderBytes;
  if (bytes->size() < kCbkHeaderBytes || std::memcmp(bytes->data(), trapetum::kCbkMagic, 8) != 0) return;
  if (uint8_t((*bytes)[12]) == 0xff) return;
  auto* p = reinterpret_cast<uint8_t*>(bytes->data());
  trapetum::CbkHeader h = trapetum::cbk_parse_header(p);
  const uint64_t size = bytes->size();
  h.file_size = size;
  if (h.meta_offset >= kCbkHeaderBytes && h.meta_offset <= size && h.meta_size <= size - h.meta_offset) {
    h.index_offset = h.meta_offset + h.meta_size;
    h.index_size = size - h.index_offset;
    h.trailer_xxh64 = trapetum::cbk_trailer_hash(bytes->substr(h.meta_offset, h.meta_size),
                                                 bytes->substr(h.index_offset, h.index_size));
  }
  const std::vector<uint8_t> header = trapetum::cbk_header_bytes(h);
  std::memcpy(p + 8, header.data() + 8, kCbkHeaderBytes - 8);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const trapetum::fuzz::ScratchDir scratch("cbk");
  std::string bytes(reinterpret_cast<const char*>(data), size);
  fix_header(&bytes);
  const std::string path = scratch.write("input.cbk", bytes);
  auto f = trapetum::CbkFile::open(path);
  if (!f.ok()) return 0;
  const trapetum::CbkFile& cbk = *f.value();
  uint64_t sum = 0;
  for (const trapetum::CbkTensor& t : cbk.tensors()) {
    CHECK(t.offset + t.nbytes <= size && t.outliers_offset + t.outliers_nbytes <= size);
    const auto* p = static_cast<const uint8_t*>(t.view.data);
    sum += p[0] + p[t.nbytes - 1];
    const trapetum::SparseRows& o = t.view.outliers;
    if (o.nnz > 0) sum += o.row_ptr[t.view.rows()] + o.cols[o.nnz - 1] + o.vals[o.nnz - 1];
  }
  volatile uint64_t sink = sum;
  (void)sink;
  (void)cbk.verify(nullptr);
  const nlohmann::json meta = nlohmann::json::parse(cbk.metadata(), nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object()) return 0;
  if (meta.contains("config")) (void)trapetum::config_from_json(meta["config"], path + ": metadata.config");
  if (!meta.contains("tokenizer")) return 0;
  auto spec = trapetum::tokenizer_spec_from_json(meta["tokenizer"], path + ": metadata.tokenizer");
  if (!spec.ok()) return 0;
  auto tok = trapetum::Tokenizer::create(std::move(spec.value()));
  if (tok.ok()) trapetum::fuzz::exercise_tokenizer(*tok.value(), trapetum::fuzz::kProbeText);
  return 0;
}
