// libFuzzer target for the PONI parser (datasets/poni.hpp): any text is either refused with xrd::Error (naming the
// line and what was expected) or gives a geometry of finite numbers that survives format() -> parse() unchanged.
// Another exception type escaping (a JSON library error, std::out_of_range, ...) is a finding too: libFuzzer
// reports it as an uncaught exception.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "datasets/poni.hpp"
#include "base/error.hpp"

namespace {

[[noreturn]] void bug() { __builtin_trap(); }

bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xrd;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  integration::Geometry g;
  try {
    g = poni::parse(text, "fuzz.poni");
  } catch (const Error&) {
    return 0;  // a clear refusal
  }
  for (double v : {g.dist, g.poni1, g.poni2, g.rot1, g.rot2, g.rot3, g.wavelength, g.pixel1, g.pixel2})
    if (!std::isfinite(v)) bug();
  // What we accept we can write back (pyFAI's version 2), and read again to the same bits.
  integration::Geometry h;
  try {
    h = poni::parse(poni::format(g), "formatted.poni");
  } catch (const Error&) {
    bug();
  }
  // parse() refuses a wavelength <= 0 (found by this target: "Wavelength: -10" was accepted); a parsed geometry
  // without one (0) comes back without one.
  const bool wavelength_ok = g.wavelength > 0 ? same(g.wavelength, h.wavelength) : h.wavelength == 0;
  if (!same(g.dist, h.dist) || !same(g.poni1, h.poni1) || !same(g.poni2, h.poni2) || !same(g.rot1, h.rot1) ||
      !same(g.rot2, h.rot2) || !same(g.rot3, h.rot3) || !wavelength_ok || !same(g.pixel1, h.pixel1) ||
      !same(g.pixel2, h.pixel2))
    bug();
  // The orientation (0 = not given = pyFAI's default 3) and the detector's shape come back too.
  if ((g.orientation ? g.orientation : 3) != (h.orientation ? h.orientation : 3) ||
      g.detector_height != h.detector_height || g.detector_width != h.detector_width)
    bug();
  return 0;
}
