// Byte-offset codec: element-type helpers, result messages and the run-time choice of the fast decoder.
#include "kernels/byte_offset.hpp"

#include "base/enum_names.hpp"
#include "base/error.hpp"

namespace xrd::byte_offset {

namespace {
constexpr EnumName<ElementType> kElementTypeNames[] = {
    {ElementType::i8, "signed 8-bit integer"},   {ElementType::u8, "unsigned 8-bit integer"},
    {ElementType::i16, "signed 16-bit integer"}, {ElementType::u16, "unsigned 16-bit integer"},
    {ElementType::i32, "signed 32-bit integer"}, {ElementType::u32, "unsigned 32-bit integer"}};
}  // namespace

const char* to_string(ElementType t) { return enum_name(kElementTypeNames, t, "unknown element type"); }

int bits(ElementType t) {
  switch (t) {
    case ElementType::i8:
    case ElementType::u8: return 8;
    case ElementType::i16:
    case ElementType::u16: return 16;
    case ElementType::i32:
    case ElementType::u32: return 32;
  }
  return 32;
}

bool is_signed(ElementType t) {
  return t == ElementType::i8 || t == ElementType::i16 || t == ElementType::i32;
}

std::string DecodeResult::message() const {
  using std::to_string;
  switch (status) {
    case DecodeStatus::ok:
      return "ok: " + to_string(elements) + " elements from " + to_string(bytes_used) + " bytes";
    case DecodeStatus::truncated:
      return "stream ended inside a " + to_string(escape_bits) + "-bit escape at byte " + to_string(error_offset) +
             " (expected " + to_string(escape_bytes) + " bytes for the escape sequence, " +
             to_string(stream_size - error_offset) + " left; " + to_string(elements) + " of " +
             to_string(elements_expected) + " elements decoded)";
    case DecodeStatus::too_few_elements:
      return "stream ended at byte " + to_string(error_offset) + " after " + to_string(elements) + " of " +
             to_string(elements_expected) + " elements (expected " + to_string(elements_expected - elements) +
             " more)";
    case DecodeStatus::trailing_bytes:
      return "all " + to_string(elements) + " elements decoded at byte " + to_string(error_offset) + " but " +
             to_string(stream_size - error_offset) + " bytes remain (expected the stream to end there)";
  }
  return "unknown decode status";
}

void throw_if_failed(const DecodeResult& r) {
  if (!r.ok()) throw Error("", Error::at_byte(r.error_offset), "byte-offset stream: " + r.message());
}

}  // namespace xrd::byte_offset
