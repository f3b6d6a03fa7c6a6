// One way to name an enum's values: a table of {value, name} pairs beside the enum, and enum_name / parse_enum over
// it, so the name printed and the name parsed are the same string and the accepted list in an error is never stale.
//
//   inline constexpr EnumName<Split> kSplitNames[] = {{Split::none, "no"}, {Split::bbox, "bbox"}, {Split::full, "full"}};
//   enum_name(kSplitNames, Split::bbox)          -> "bbox"
//   parse_enum(kSplitNames, "x", "pixel splitting") throws std::invalid_argument(
//       "unknown pixel splitting 'x' (expected no, bbox or full)")
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace xrd {

template <class E>
struct EnumName {
  E value;
  const char* name;
};

// The name of `v` in `table`; `fallback` when the table lacks it (a value cast from a bad integer).
template <class E, size_t N>
constexpr const char* enum_name(const EnumName<E> (&table)[N], E v, const char* fallback = "?") {
  for (const auto& e : table)
    if (e.value == v) return e.name;
  return fallback;
}

// "a, b or c": the names of the table, for usage lines and error messages.
template <class E, size_t N>
std::string enum_names(const EnumName<E> (&table)[N]) {
  std::string s;
  for (size_t i = 0; i < N; ++i) s += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(table[i].name);
  return s;
}

// The value named `text`; throws std::invalid_argument "unknown <what> '<text>' (expected a, b or c)".
template <class E, size_t N>
E parse_enum(const EnumName<E> (&table)[N], std::string_view text, std::string_view what) {
  for (const auto& e : table)
    if (text == e.name) return e.value;
  throw std::invalid_argument("unknown " + std::string(what) + " '" + std::string(text) + "' (expected " +
                              enum_names(table) + ")");
}

}  // namespace xrd
