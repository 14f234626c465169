// NFC: full canonical decomposition (Hangul by arithmetic), canonical ordering of combining
// marks, then canonical composition, over the tables in unicode_nfc_data.cpp.
#include "tokenizer/unicode_nfc.h"

#include <algorithm>
#include <vector>

#include "tokenizer/unicode.h"
#include "tokenizer/unicode_nfc_data.h"

namespace trapetum {
namespace {

using nfc_data::CodepointTriple;

constexpr char32_t kHangulS = 0xAC00, kHangulL = 0x1100, kHangulV = 0x1161, kHangulT = 0x11A7;
constexpr char32_t kHangulLCount = 19, kHangulVCount = 21, kHangulTCount = 28;
constexpr char32_t kHangulNCount = kHangulVCount * kHangulTCount, kHangulSCount = kHangulLCount * kHangulNCount;

int combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  const CodepointTriple* end = nfc_data::kCombiningClass + nfc_data::kCombiningClassCount;
  const CodepointTriple* it = std::upper_bound(
      nfc_data::kCombiningClass, end, cp, [](char32_t v, const CodepointTriple& r) { return v < r.a; });
  if (it == nfc_data::kCombiningClass) return 0;
  --it;
  return cp <= it->b ? int(it->c) : 0;
}

const CodepointTriple* find_decomposition(char32_t cp) {
  const CodepointTriple* end = nfc_data::kDecomposition + nfc_data::kDecompositionCount;
  const CodepointTriple* it = std::lower_bound(
      nfc_data::kDecomposition, end, cp, [](const CodepointTriple& r, char32_t v) { return r.a < v; });
  return it != end && it->a == cp ? it : nullptr;
}

void decompose(char32_t cp, std::vector<char32_t>* out) {
  if (cp >= kHangulS && cp < kHangulS + kHangulSCount) {
    char32_t s = cp - kHangulS;
    out->push_back(kHangulL + s / kHangulNCount);
    out->push_back(kHangulV + (s % kHangulNCount) / kHangulTCount);
    if (s % kHangulTCount) out->push_back(kHangulT + s % kHangulTCount);
    return;
  }
  const CodepointTriple* d = cp < 0xC0 ? nullptr : find_decomposition(cp);
  if (!d) {
    out->push_back(cp);
    return;
  }
  decompose(d->b, out);
  if (d->c) decompose(d->c, out);
}

// The primary composite of a + b, or 0.
char32_t compose(char32_t a, char32_t b) {
  if (a >= kHangulL && a < kHangulL + kHangulLCount && b >= kHangulV && b < kHangulV + kHangulVCount)
    return kHangulS + ((a - kHangulL) * kHangulVCount + (b - kHangulV)) * kHangulTCount;
  if (a >= kHangulS && a < kHangulS + kHangulSCount && (a - kHangulS) % kHangulTCount == 0 &&
      b > kHangulT && b < kHangulT + kHangulTCount)
    return a + (b - kHangulT);
  const CodepointTriple* end = nfc_data::kComposition + nfc_data::kCompositionCount;
  const CodepointTriple* it = std::lower_bound(
      nfc_data::kComposition, end, std::pair{a, b}, [](const CodepointTriple& r, std::pair<char32_t, char32_t> v) {
        return r.a < v.first || (r.a == v.first && r.b < v.second);
      });
  return it != end && it->a == a && it->b == b ? it->c : 0;
}

// Normalizes one run of valid code points in place.
void normalize_run(std::vector<char32_t>* cps) {
  std::vector<char32_t> d;
  d.reserve(cps->size() + 8);
  for (char32_t cp : *cps) decompose(cp, &d);
  // Canonical ordering: a stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (combining_class(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && combining_class(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + long(i), d.begin() + long(j),
                     [](char32_t x, char32_t y) { return combining_class(x) < combining_class(y); });
    i = j;
  }
  // Canonical composition.
  cps->clear();
  long starter = -1;
  int last_class = -1;
  for (char32_t cp : d) {
    int cls = combining_class(cp);
    // Blocked: a character between the starter and cp has class 0 or >= cls (after reordering
    // the classes between them ascend, so the last one decides).
    bool blocked = starter < 0 || (last_class != -1 && last_class >= cls);
    if (!blocked) {
      if (char32_t c = compose((*cps)[size_t(starter)], cp)) {
        (*cps)[size_t(starter)] = c;
        continue;
      }
    }
    if (cls == 0) {
      starter = long(cps->size());
      last_class = -1;
    } else {
      last_class = cls;
    }
    cps->push_back(cp);
  }
}

}  // namespace

std::string nfc_normalize(std::string_view s) {
  // Code points below U+0300 are all NFC-stable starters: most text takes this exit.
  bool simple = true;
  for (unsigned char c : s) {
    if (c >= 0xCC) {
      simple = false;
      break;
    }
  }
  if (simple) return std::string(s);

  std::string out;
  out.reserve(s.size());
  std::vector<char32_t> run;
  auto flush = [&] {
    normalize_run(&run);
    for (char32_t cp : run) utf8_append(&out, cp);
    run.clear();
  };
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_valid_len(s, i);
    if (!n) {
      flush();
      out.push_back(s[i++]);
      continue;
    }
    run.push_back(utf8_decode(s, i, n));
    i += n;
  }
  flush();
  return out;
}

}  // namespace trapetum
