// .cbk pieces shared by reader and writer: the 64-byte header, the JSON tensor index and
// the trailer checksum. Layouts are specified in docs/cbk-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "io/cbk.h"

namespace trapetum {

struct CbkHeader {
  uint32_t version = kCbkVersion;
  uint32_t flags = 0;
  uint64_t meta_offset = 0, meta_size = 0;
  uint64_t index_offset = 0, index_size = 0;
  uint64_t trailer_xxh64 = 0;  // of the metadata bytes followed by the index bytes
  uint64_t file_size = 0;
};

std::vector<uint8_t> cbk_header_bytes(const CbkHeader& h);
// Decodes a header from the first kCbkHeaderBytes of a file (magic checked by the caller).
CbkHeader cbk_parse_header(const uint8_t* p);
uint64_t cbk_trailer_hash(const std::string& metadata, const std::string& index);

// Bytes of an outlier region: row_ptr (rows + 1) u32, cols (nnz) u32, vals (nnz) fp16.
inline uint64_t cbk_outliers_bytes(uint64_t rows, uint64_t nnz) { return 4 * (rows + 1) + 6 * nnz; }

std::string cbk_index_to_json(const std::vector<CbkTensor>& tensors);
// Parses the index; checks types and field presence, not bounds (the reader does).
Result<std::vector<CbkTensor>> cbk_index_from_json(const std::string& json, const std::string& path);

}  // namespace trapetum
