// Helpers for the CBF tests: pixel statistics as expected.json states them, and byte edits of a good file.
#pragma once
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "kernels/md5.hpp"

namespace xrd::test {

static_assert(std::endian::native == std::endian::little, "pixels_md5 is defined on little-endian int32");

struct PixelStats {
  int64_t min = std::numeric_limits<int64_t>::max(), max = std::numeric_limits<int64_t>::min(), sum = 0;
  std::string md5_hex;  // MD5 of the pixels as little-endian int32, row-major
};

inline PixelStats pixel_stats(std::span<const int32_t> px) {
  PixelStats s;
  for (int32_t v : px) {
    s.min = std::min<int64_t>(s.min, v);
    s.max = std::max<int64_t>(s.max, v);
    s.sum += v;
  }
  s.md5_hex = xrd::to_hex(xrd::md5({reinterpret_cast<const uint8_t*>(px.data()), px.size_bytes()}));
  return s;
}

// Index of the first pixel where a and b differ, -1 when equal (sizes differ: the shorter size). CHECK on this,
// not on `a == b`: Catch would print millions of pixels on a failure.
template <class A, class B>
inline int64_t first_difference(const A& a, const B& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return static_cast<int64_t>(i);
  return a.size() == b.size() ? -1 : static_cast<int64_t>(n);
}

inline std::vector<int32_t> read_i32le(const std::vector<uint8_t>& raw) {
  std::vector<int32_t> v(raw.size() / 4);
  std::memcpy(v.data(), raw.data(), v.size() * 4);
  return v;
}

// Byte offset of the first occurrence of `what`; throws when absent.
inline size_t offset_of(const std::vector<uint8_t>& b, const std::string& what) {
  const std::vector<uint8_t> w(what.begin(), what.end());  // compare bytes, not (signed) chars
  auto it = std::search(b.begin(), b.end(), w.begin(), w.end());
  if (it == b.end()) throw std::runtime_error("test setup: '" + what + "' not found in the file");
  return static_cast<size_t>(it - b.begin());
}

// Replace the first occurrence of `from` (in the text header) with `to`; fails the test when absent.
inline std::vector<uint8_t> replaced(std::vector<uint8_t> b, const std::string& from, const std::string& to) {
  const size_t pos = offset_of(b, from);
  b.erase(b.begin() + static_cast<std::ptrdiff_t>(pos), b.begin() + static_cast<std::ptrdiff_t>(pos + from.size()));
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), to.begin(), to.end());
  return b;
}

}  // namespace xrd::test
