// libFuzzer target for the CBF reader: parse, MD5 check, decode with the fast and the reference decoder (int32 and
// float; they must agree, on success and on failure), and write -> parse -> decode round trip of what decoded.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "datasets/cbf.hpp"

namespace {

// Disagreement between decoders, or a round trip that changes pixels: a bug, reported as a crash to libFuzzer.
[[noreturn]] void bug() { __builtin_trap(); }

struct Outcome {
  bool ok = false;
  std::string where;  // of the error
};

template <class T>
Outcome decode_with(const xrd::cbf::CbfView& v, std::vector<T>& out, bool reference) {
  out.assign(v.binary.width * v.binary.height, T{});
  try {
    xrd::cbf::decode(v, std::span<T>(out), reference);
    return {true, ""};
  } catch (const xrd::Error& e) {
    return {false, e.where()};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xrd;
  const std::span<const uint8_t> in(data, size);
  cbf::CbfView v;
  try {
    v = cbf::parse(in, "fuzz.cbf");
  } catch (const Error&) {
    return 0;  // a clear refusal is the expected outcome for most inputs
  }
  if (v.payload.data() < data || v.payload.data() + v.payload.size() > data + size) bug();
  (void)cbf::check_md5(v);

  std::vector<int32_t> fast, ref;
  const Outcome a = decode_with(v, fast, false), b = decode_with(v, ref, true);
  if (a.ok != b.ok || a.where != b.where) bug();
  if (a.ok && fast != ref) bug();
  std::vector<float> ffast, fref;
  const Outcome c = decode_with(v, ffast, false), d = decode_with(v, fref, true);
  if (c.ok != a.ok || d.ok != a.ok || c.where != a.where || d.where != a.where) bug();
  if (!a.ok) return 0;
  for (size_t i = 0; i < ref.size(); ++i)
    if (ffast[i] != fref[i] || (v.binary.element_type == byte_offset::ElementType::i32 && fref[i] != static_cast<float>(ref[i])))
      bug();

  // What we read, we write; what we write, we read back identically (int32 only: the writer writes int32).
  if (v.binary.element_type == byte_offset::ElementType::i32) {
    std::vector<uint8_t> file, scratch;
    cbf::write_to(file, ref, v.binary.width, v.binary.height, v.header, scratch);
    const cbf::CbfView w = cbf::parse(file, "rewritten.cbf");
    if (cbf::check_md5(w) != cbf::Md5Status::ok) bug();
    std::vector<int32_t> back(ref.size());
    cbf::decode(w, std::span<int32_t>(back), true);
    if (back != ref) bug();
  }
  return 0;
}
