// Writes small, valid .cbk seed files for fuzz_cbk (scripts/fuzz.sh): a few codecs, outliers,
// and metadata with the config and tokenizer of the tiny test model, via the real CbkWriter.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/cbk.h"
#include "io/gguf.h"
#include "model/config_json.h"
#include "tokenizer/spec_json.h"
#include "tokenizer/tokenizer.h"

namespace {

using trapetum::DType;

struct Piece {
  const char* name;
  DType dtype;
  std::vector<int64_t> shape;
  bool outliers;
};

trapetum::Status write_seed(const std::string& path, const std::vector<Piece>& pieces, const std::string& meta) {
  TRY(auto w, trapetum::CbkWriter::create(path));
  for (const Piece& p : pieces) {
    trapetum::TensorView v;
    v.dtype = p.dtype;
    v.shape = p.shape;
    const std::vector<uint8_t> data(size_t(v.nbytes()), 0x11);
    trapetum::SparseRowsData o;
    if (p.outliers) {  // row 0: one entry, row 1: two, the rest none
      o.row_ptr.assign(size_t(v.rows() + 1), 3);
      o.row_ptr[0] = 0;
      o.row_ptr[1] = 1;
      o.cols = {3, 0, uint32_t(v.cols() - 1)};
      o.vals = {0x3c00, 0xbc00, 0x4000};
    }
    TRY_STATUS(w->add(p.name, p.dtype, p.shape, data.data(), data.size(), p.outliers ? &o : nullptr));
  }
  return w->finish(meta);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TESTS_DATA_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string data = argv[1], out = argv[2];
  nlohmann::json meta = {{"format", "trapetum.cbk"}};
  auto g = trapetum::GgufFile::open(data + "/models/tiny_llama/model.gguf");
  if (g.ok()) {
    auto cfg = trapetum::config_from_gguf(*g.value());
    if (cfg.ok()) meta["config"] = trapetum::config_to_json(cfg.value());
    auto spec = trapetum::tokenizer_spec_from_gguf(*g.value());
    if (spec.ok()) meta["tokenizer"] = trapetum::tokenizer_spec_to_json(spec.value());
  }
  const std::vector<Piece> mixed = {{"token_embd.weight", DType::kF32, {4, 8}, false},
                                    {"blk.0.attn_q.weight", DType::kQ8, {2, 32}, false},
                                    {"blk.0.ffn_down.weight", DType::kQ4G32, {3, 64}, true},
                                    {"blk.0.ffn_up.weight", DType::kCB4, {2, 32}, true},
                                    {"blk.0.ffn_gate.weight", DType::kT158, {2, 128}, false},
                                    {"output_norm.weight", DType::kF16, {8}, false}};
  const std::vector<Piece> one = {{"output.weight", DType::kBF16, {2, 2, 4}, false}};
  struct Seed {
    const char* file;
    const std::vector<Piece>* pieces;
    std::string meta;
  };
  const Seed seeds[] = {{"tiny_model.cbk", &mixed, meta.dump()},
                        {"bare_metadata.cbk", &one, "{}"},
                        {"config_only.cbk", &one, nlohmann::json{{"config", meta.value("config", nlohmann::json())}}.dump()}};
  int failures = 0;
  for (const Seed& s : seeds) {
    auto st = write_seed(out + "/" + s.file, *s.pieces, s.meta);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.error().c_str());
      ++failures;
    }
  }
  return failures ? 1 : 0;
}
