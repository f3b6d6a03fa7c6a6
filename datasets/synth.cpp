// The synthetic Pilatus3 2M generator. Image model of frame i (all intensities in counts):
//   lambda(pixel) = sa * ( bg_i(2th) + sum_p f_p,i * (1 + A_p cos 2(chi - phi_p,i)) * rings_p,i(2th) )
//   value = Poisson(lambda); gaps -1, dead pixels -2, hot pixels > 2^20.
// The per-pixel geometry (2th, chi, solid angle) is computed once with pyFAI's formulas from the PONI we write, so
// integrating a frame with geometry.poni gives sharp peaks at the d-spacings of the phases. Per frame, the radial
// profiles are tabulated on a fine 2th grid and each pixel interpolates them: the per-pixel cost is a table lookup,
// a counter-based random number and a fast Poisson sample.
#include "datasets/synth.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <numbers>
#include <stdexcept>
#include <thread>

#include "datasets/poni.hpp"
#include "base/error.hpp"

namespace xrd::synth {
namespace {

constexpr size_t kCells = 16384;       // 2th grid cells of the per-frame profile tables
constexpr size_t kTableStride = 4;     // per grid node: T0 (isotropic), Tc (cos 2chi), Ts (sin 2chi), pad
constexpr double kInstrFwhm = 1.0e-3;  // instrumental ring FWHM in 2th (radians): ~2 px at 0.35 m
constexpr double kLorentzFraction = 0.1;  // pseudo-Voigt mixing: mostly Gaussian, with Lorentzian tails
constexpr uint64_t kParamStream = 0x5041524d53ULL, kDefectStream = 0x444546454354ULL, kHotStream = 0x484f54ULL;
constexpr double kPi = std::numbers::pi;

// A small sequential generator for the few per-frame parameters (keyed by seed and frame: thread-independent).
struct ParamRng {
  uint64_t key, n = 0;
  double uniform() { return detail::to_open01(detail::mix64(key + (++n) * 0x9e3779b97f4a7c15ULL)); }
  double normal() { return detail::normal_quantile(uniform()); }
  uint64_t bits() { return detail::mix64(key + (++n) * 0x9e3779b97f4a7c15ULL); }
};

std::string fmt(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? p : buf);
}

// ---- Crystal phases -------------------------------------------------------------------------------------------

struct Atom {
  double z;  // atomic number (scattering factor at s = 0)
  double x, y, zf;
};

std::vector<Atom> fcc(double z, double ox, double oy, double oz) {
  std::vector<Atom> v;
  const double t[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
  for (auto& o : t) v.push_back({z, o[0] + ox, o[1] + oy, o[2] + oz});
  return v;
}

struct CrystalDef {
  const char* name;
  const char* structure;
  double a;
  double scale, texture;
  std::vector<Atom> atoms;
};

std::vector<CrystalDef> crystal_defs() {
  std::vector<CrystalDef> defs;
  {  // LaB6, NIST SRM 660c: La at the origin, a B6 octahedron at the cube centre (x = 0.1975).
    CrystalDef c{"LaB6", "Pm-3m", 4.156826, 0.6, 0.12, {{57, 0, 0, 0}}};
    const double x = 0.1975;
    for (double v : {x, 1 - x}) {
      c.atoms.push_back({5, v, .5, .5});
      c.atoms.push_back({5, .5, v, .5});
      c.atoms.push_back({5, .5, .5, v});
    }
    defs.push_back(c);
  }
  {  // CeO2 fluorite: Ce on the fcc lattice, O at (1/4,1/4,1/4) and (3/4,3/4,3/4) of it.
    CrystalDef c{"CeO2", "Fm-3m (fluorite)", 5.411651, 0.85, 0.22, fcc(58, 0, 0, 0)};
    for (auto& a : fcc(8, .25, .25, .25)) c.atoms.push_back(a);
    for (auto& a : fcc(8, .75, .75, .75)) c.atoms.push_back(a);
    defs.push_back(c);
  }
  {  // Al (the matrix): fcc. (Si, the other usual standard, would sit on top of CeO2's rings: a differs by 0.4%.)
    CrystalDef c{"Al", "Fm-3m (fcc)", 4.04950, 0.55, 0.08, fcc(13, 0, 0, 0)};
    defs.push_back(c);
  }
  return defs;
}

// Reflection families with |F|^2 > 0 up to 2th_max; weight = sum over (hkl) of |F|^2 (multiplicity included)
// x form-factor and Debye-Waller fall-off / (sin th sin 2th) (Lorentz factor and ring circumference).
Phase make_phase(const CrystalDef& c, double wavelength_A, double tth_max) {
  Phase ph{c.name, c.structure, c.a, c.scale, c.texture, {}};
  const double d_min = wavelength_A / (2 * std::sin(tth_max / 2));
  const int s_max = int(std::floor((c.a / d_min) * (c.a / d_min)));
  const int hmax = int(std::ceil(std::sqrt(double(s_max))));
  std::vector<double> f2(size_t(s_max) + 1, 0.0);
  std::vector<std::string> rep(size_t(s_max) + 1);
  for (int h = -hmax; h <= hmax; ++h)
    for (int k = -hmax; k <= hmax; ++k)
      for (int l = -hmax; l <= hmax; ++l) {
        const int s = h * h + k * k + l * l;
        if (s == 0 || s > s_max) continue;
        double re = 0, im = 0;
        for (auto& a : c.atoms) {
          const double ph2 = 2 * kPi * (h * a.x + k * a.y + l * a.zf);
          re += a.z * std::cos(ph2);
          im += a.z * std::sin(ph2);
        }
        const double v = re * re + im * im;
        if (v < 1e-6) continue;
        f2[size_t(s)] += v;
        if (h >= k && k >= l && l >= 0 && rep[size_t(s)].empty())
          rep[size_t(s)] = std::to_string(h) + std::to_string(k) + std::to_string(l);
      }
  double wmax = 0;
  for (int s = 1; s <= s_max; ++s) {
    if (f2[size_t(s)] <= 0) continue;
    Reflection r;
    r.s = s;
    r.hkl = rep[size_t(s)].empty() ? "s=" + std::to_string(s) : rep[size_t(s)];
    r.d = c.a / std::sqrt(double(s));
    const double sin_th = wavelength_A / (2 * r.d);
    if (sin_th >= 1) continue;
    r.tth = 2 * std::asin(sin_th);
    if (r.tth >= tth_max) continue;
    const double q2 = (sin_th / wavelength_A) * (sin_th / wavelength_A);  // (sin th / lambda)^2, A^-2
    const double falloff = std::exp(-2 * 8.0 * q2) * std::exp(-2 * 0.5 * q2);  // (f/Z)^2 and Debye-Waller
    r.weight = f2[size_t(s)] * falloff / (sin_th * std::sin(r.tth));
    wmax = std::max(wmax, r.weight);
    ph.reflections.push_back(r);
  }
  for (auto& r : ph.reflections) r.weight /= wmax;
  return ph;
}

// ---- The sample: a sinogram through a phantom ------------------------------------------------------------------
// An Al disc (radius 0.95) holding a LaB6 and a CeO2 inclusion; the beam is the line {p : p.n = t}.
struct Disc {
  double cx, cy, r;
};
constexpr Disc kMatrix{0, 0, 0.95}, kLaB6{0.30, 0.25, 0.35}, kCeO2{-0.35, -0.20, 0.32};
constexpr size_t kScanLines = 30;  // rotation angles over 180 degrees (41 x 30 = 1230 >= the paper's 1202 frames)

double chord(const Disc& d, double angle, double t) {
  const double dist = t - (d.cx * std::cos(angle) + d.cy * std::sin(angle));
  const double h = d.r * d.r - dist * dist;
  return h > 0 ? 2 * std::sqrt(h) : 0.0;
}

double pseudo_voigt(double x, double fwhm) {
  const double u = 2 * x / fwhm;
  return (1 - kLorentzFraction) * std::exp(-std::numbers::ln2 * u * u) + kLorentzFraction / (1 + u * u);
}

}  // namespace

// ---- detail ------------------------------------------------------------------------------------------------------

double detail::normal_quantile(double u) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double plow = 0.02425;
  if (u > plow && u < 1 - plow) {
    const double q = u - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double q = std::sqrt(-2 * std::log(u <= plow ? u : 1 - u));
  const double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                   ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  return u <= plow ? x : -x;
}

namespace {

// Tables for the Poisson sampler, built once (about 200 kB: they stay in the L2 cache).
struct PoissonTables {
  static constexpr int kSteps = 32;                                  // lambda grid: 1/32
  static constexpr int kBins = int(detail::kPoissonTableMax) * kSteps + 2;
  static constexpr int kK = 64;                                      // P(X >= 64 | lambda = 16) ~ 1e-17
  static constexpr int kGuideBits = 6;
  uint32_t cdf[kBins][kK + 2];          // P(X <= k) * 2^32, rounded; X = smallest k with u32 < cdf[k]; padded
  uint8_t guide[kBins][1 << kGuideBits];  // smallest k for the lowest u32 of each of 64 cells
  float zq[1 << 16];                    // normal quantile at the centres of 65536 equiprobable cells

  PoissonTables() {
    for (int m = 0; m < kBins; ++m) {
      const double lam = double(m) / kSteps;
      // Recurrence from the mode downwards and upwards would be more accurate for large lambda; at <= 16 the
      // direct one loses nothing visible in double precision.
      double p = std::exp(-lam), c = 0;
      for (int k = 0; k < kK; ++k) {
        c += p;
        p *= lam / double(k + 1);
        const double v = std::min(c, 1.0) * 4294967296.0;
        cdf[m][k] = v >= 4294967295.0 ? 4294967295u : uint32_t(std::llround(v));
      }
      cdf[m][kK - 1] = cdf[m][kK] = cdf[m][kK + 1] = 4294967295u;
      for (int g = 0; g < (1 << kGuideBits); ++g) {
        const uint32_t u = uint32_t(g) << (32 - kGuideBits);
        int k = 0;
        while (k < kK - 1 && u >= cdf[m][k]) ++k;
        guide[m][g] = uint8_t(k);
      }
    }
    for (int i = 0; i < (1 << 16); ++i) zq[i] = float(detail::normal_quantile((i + 0.5) / 65536.0));
  }
};

const PoissonTables& poisson_tables() {
  static const PoissonTables t;
  return t;
}

// Bits of r: the low 32 pick the CDF position (small lambda) and bits 32..42 dither the lambda grid; the top 16
// pick the normal quantile (large lambda). The two branches never use the same sample twice.
inline int32_t poisson_sample(const PoissonTables& T, double lambda, uint64_t r) {
  if (lambda < detail::kPoissonTableMax) {
    const double x = (lambda > 0 ? lambda : 0) * PoissonTables::kSteps;
    int m = int(x);
    const double frac = x - double(m);
    if (double((r >> 32) & 0x7ff) < frac * 2048.0) ++m;
    const uint32_t u = uint32_t(r);
    const uint32_t* c = T.cdf[m];
    int k = T.guide[m][u >> (32 - PoissonTables::kGuideBits)];
    // The answer is rarely more than two steps past the guide: two branch-free steps, then the (rare) loop.
    k += u >= c[k];
    k += u >= c[k];
    while (k < PoissonTables::kK - 1 && u >= c[k]) ++k;
    return std::min(k, PoissonTables::kK - 1);
  }
  // Cornish-Fisher expansion of the Poisson quantile (skewness 1/sqrt(lambda)) with continuity correction.
  const double z = T.zq[r >> 48];
  const double x = lambda + std::sqrt(lambda) * z + (z * z - 1) * (1.0 / 6.0) + 0.5;
  return x < 1 ? 0 : x >= 2147483647.0 ? 2147483647 : int32_t(x);  // truncation = floor for x >= 1
}

}  // namespace

int32_t detail::poisson(double lambda, uint64_t bits) { return poisson_sample(poisson_tables(), lambda, bits); }

ByteOffsetStats byte_offset_stats(std::span<const int32_t> image) {
  ByteOffsetStats st;
  int64_t prev = 0;
  for (int32_t v : image) {
    const int64_t d = int64_t(v) - prev;
    prev = v;
    if (d >= -127 && d <= 127)
      ++st.n1;
    else if (d > -32768 && d <= 32767)
      ++st.n3;
    else if (d > INT32_MIN && d <= INT32_MAX)
      ++st.n7;
    else
      ++st.n15;
  }
  return st;
}

// ---- Generator -----------------------------------------------------------------------------------------------------

namespace {
// 2th of the point (p1, p2) metres from the PONI on the detector (pyFAI's rotation convention).
double two_theta(const Params& p_, double p1, double p2) {
  const double c1 = std::cos(p_.rot1), c2 = std::cos(p_.rot2), c3 = std::cos(p_.rot3);
  const double s1 = std::sin(p_.rot1), s2 = std::sin(p_.rot2), s3 = std::sin(p_.rot3);
  const double L = p_.distance;
  const double t1 = p1 * c2 * c3 + p2 * (c3 * s1 * s2 - c1 * s3) - L * (c1 * c3 * s2 + s1 * s3);
  const double t2 = p1 * c2 * s3 + p2 * (c1 * c3 + s1 * s2 * s3) - L * (-(c3 * s1) + c1 * s2 * s3);
  const double t3 = p1 * s2 - p2 * c2 * s1 + L * c1 * c2;
  return std::atan2(std::sqrt(t1 * t1 + t2 * t2), t3);
}
}  // namespace

Generator::Generator(const Params& p, int threads) : p_(p) {
  if (p_.frames == 0) throw std::invalid_argument("synth: frames must be at least 1");
  if (!(p_.distance > 0) || !(p_.wavelength > 0)) throw std::invalid_argument("synth: distance and wavelength > 0");
  if (p_.scan_steps < 2) throw std::invalid_argument("synth: scan_steps must be at least 2");
  if (p_.dead_pixels < 0 || p_.hot_pixels < 0 || p_.dead_pixels + p_.hot_pixels > 100000)
    throw std::invalid_argument("synth: dead/hot pixel counts out of range");
  const Layout& lay = p_.layout;
  if (lay.width == 0 || lay.height == 0 || lay.module_w == 0 || lay.module_h == 0 || !(lay.pixel_size > 0) ||
      lay.bit_depth < 8 || lay.bit_depth > 31)
    throw std::invalid_argument("synth: the detector layout needs a shape, modules, a pixel size and 8..31 bits");
  threads = std::max(1, threads);

  // Largest 2th on the detector: at one of its four outer corners (the iso-2th curves are ellipses).
  for (double x : {0.0, double(p_.layout.width)})
    for (double y : {0.0, double(p_.layout.height)}) {
      tth_max_ = std::max(tth_max_, two_theta(p_, y * p_.layout.pixel_size - p_.poni1,
                                              x * p_.layout.pixel_size - p_.poni2));
    }
  tth_max_ *= 1.002;

  for (auto& c : crystal_defs()) phases_.push_back(make_phase(c, p_.wavelength * 1e10, tth_max_));

  // Per-pixel geometry, rows split over the threads (each pixel computed alone: the result is thread-independent).
  geo_.resize(p_.layout.pixels());
  auto rows = [&](size_t y0, size_t y1) {
    const double c1 = std::cos(p_.rot1), c2 = std::cos(p_.rot2), c3 = std::cos(p_.rot3);
    const double s1 = std::sin(p_.rot1), s2 = std::sin(p_.rot2), s3 = std::sin(p_.rot3);
    const double L = p_.distance;
    const double to_cell = double(kCells) / tth_max_;
    for (size_t y = y0; y < y1; ++y) {
      const double p1 = (double(y) + 0.5) * p_.layout.pixel_size - p_.poni1;
      for (size_t x = 0; x < p_.layout.width; ++x) {
        const double p2 = (double(x) + 0.5) * p_.layout.pixel_size - p_.poni2;
        const double t1 = p1 * c2 * c3 + p2 * (c3 * s1 * s2 - c1 * s3) - L * (c1 * c3 * s2 + s1 * s3);
        const double t2 = p1 * c2 * s3 + p2 * (c1 * c3 + s1 * s2 * s3) - L * (-(c3 * s1) + c1 * s2 * s3);
        const double t3 = p1 * s2 - p2 * c2 * s1 + L * c1 * c2;
        const double r2 = t1 * t1 + t2 * t2;
        const double tth = std::atan2(std::sqrt(r2), t3);
        const double cosa = L / std::sqrt(L * L + p1 * p1 + p2 * p2);  // pyFAI's solid angle: cos^3 incidence
        PixelGeo& g = geo_[y * p_.layout.width + x];
        g.pos = float(std::min(tth * to_cell, double(kCells) - 1e-3));
        g.sa = float(cosa * cosa * cosa);
        // chi = atan2(t1, t2) (pyFAI): cos 2chi and sin 2chi without trigonometry.
        g.c2 = r2 > 0 ? float((t2 * t2 - t1 * t1) / r2) : 1.0f;
        g.s2 = r2 > 0 ? float(2 * t1 * t2 / r2) : 0.0f;
      }
    }
  };
  {
    std::vector<std::thread> pool;
    const size_t per = (p_.layout.height + size_t(threads) - 1) / size_t(threads);
    for (int t = 0; t < threads; ++t) {
      const size_t y0 = size_t(t) * per, y1 = std::min(p_.layout.height, y0 + per);
      if (y0 < y1) pool.emplace_back(rows, y0, y1);
    }
    for (auto& th : pool) th.join();
  }

  // Mask: gaps, then fixed defects drawn from the seed (distinct, never in a gap).
  mask_.assign(p_.layout.pixels(), 0);
  for (size_t y = 0; y < p_.layout.height; ++y)
    for (size_t x = 0; x < p_.layout.width; ++x)
      if (p_.layout.is_gap(x, y)) mask_[y * p_.layout.width + x] = kMaskGap;
  ParamRng rng{detail::stream_key(p_.seed, ~0ULL, kDefectStream)};
  auto draw = [&](int n, int32_t code, std::vector<uint32_t>& out) {
    while (out.size() < size_t(n)) {
      const uint32_t idx = uint32_t(rng.bits() % p_.layout.pixels());
      if (mask_[idx] != 0) continue;
      mask_[idx] = code;
      out.push_back(idx);
    }
    std::sort(out.begin(), out.end());
  };
  draw(p_.dead_pixels, kMaskDead, dead_);
  draw(p_.hot_pixels, kMaskHot, hot_);
}

FrameInfo Generator::frame_info(size_t i) const {
  FrameInfo f;
  f.index = i;
  f.scan_line = i / p_.scan_steps;
  f.scan_step = i % p_.scan_steps;
  f.angle_deg = 180.0 * double(f.scan_line % kScanLines) / double(kScanLines);
  f.translation = -0.8 + 1.6 * double(f.scan_step) / double(p_.scan_steps - 1);
  const double ang = f.angle_deg * kPi / 180.0, t = f.translation;
  const double c_matrix = chord(kMatrix, ang, t), c_lab6 = chord(kLaB6, ang, t), c_ceo2 = chord(kCeO2, ang, t);
  const double diam = 2 * kMatrix.r;
  f.fraction = {c_lab6 / diam, c_ceo2 / diam, std::max(0.0, c_matrix - c_lab6 - c_ceo2) / diam};
  f.thickness = c_matrix / diam;
  // Ring widths follow the sample too: LaB6 microstrain varies across the inclusion, CeO2 crystallites grow from
  // one side of the sample to the other (size broadening), the Al matrix stays sharp.
  const double lab6_strain = 1e-4 + 7e-4 * (0.5 + 0.5 * std::cos(kPi * t + ang));
  const double ceo2_size_nm = 15.0 + 30.0 * (0.5 + 0.5 * std::sin(0.5 * kPi * t - ang));
  f.microstrain = {lab6_strain, 5e-5, 2e-4};
  f.crystallite_nm = {500.0, ceo2_size_nm, 300.0};
  return f;
}

void Generator::build_tables(size_t i, std::vector<float>& table) const {
  const FrameInfo fi = frame_info(i);
  ParamRng rng{detail::stream_key(p_.seed, i, kParamStream)};
  const double cell = tth_max_ / double(kCells);
  std::vector<double> t0(kCells + 2), tc(kCells + 2), ts(kCells + 2);

  // Background: air scattering falling with angle (+-3% per frame) and the sample's amorphous hump.
  const double air = p_.air_level * (1 + 0.03 * rng.normal());
  for (size_t k = 0; k < kCells + 2; ++k) {
    const double g = double(k) * cell;
    const double hump = (g - 0.167) / 0.035;
    t0[k] = air * (0.35 + 0.65 * std::exp(-g / 0.12)) + p_.amorphous_level * fi.thickness * std::exp(-0.5 * hump * hump);
  }

  const double lambda_A = p_.wavelength * 1e10;
  for (size_t pi = 0; pi < phases_.size(); ++pi) {
    const Phase& ph = phases_[pi];
    // Texture: amplitude fixed per phase, orientation turning with the sample and a little per frame.
    const double phi = 0.7 * double(pi) + fi.angle_deg * kPi / 180.0 + 0.1 * rng.normal();
    const double a = ph.texture * std::cos(2 * phi), b = ph.texture * std::sin(2 * phi);
    const double grain_sigma = pi == 2 ? 0.25 : 0.12;  // coarser Al grains: larger ring-to-ring fluctuations
    for (const Reflection& r : ph.reflections) {
      const double th = r.tth / 2;
      const double size = 0.9 * lambda_A * 1e-10 / (fi.crystallite_nm[pi] * 1e-9 * std::cos(th));
      const double strain = 4 * fi.microstrain[pi] * std::tan(th);
      const double fwhm = std::sqrt(kInstrFwhm * kInstrFwhm + size * size + strain * strain);
      const double jitter = std::exp(grain_sigma * rng.normal());
      // Area-conserving: a broader ring is lower.
      const double height = p_.ring_level * ph.scale * fi.fraction[pi] * r.weight * jitter * (kInstrFwhm / fwhm);
      const double reach = 25 * fwhm;
      const size_t k0 = size_t(std::max(0.0, std::floor((r.tth - reach) / cell)));
      const size_t k1 = std::min(kCells + 1, size_t(std::ceil((r.tth + reach) / cell)));
      for (size_t k = k0; k <= k1; ++k) {
        const double v = height * pseudo_voigt(double(k) * cell - r.tth, fwhm);
        t0[k] += v;
        tc[k] += a * v;
        ts[k] += b * v;
      }
    }
  }
  table.resize((kCells + 2) * kTableStride);
  for (size_t k = 0; k < kCells + 2; ++k) {
    table[k * kTableStride + 0] = float(t0[k]);
    table[k * kTableStride + 1] = float(tc[k]);
    table[k * kTableStride + 2] = float(ts[k]);
    table[k * kTableStride + 3] = 0.0f;
  }
}

void Generator::frame(size_t i, std::span<int32_t> out, FrameScratch& scratch) const {
  if (out.size() != p_.layout.pixels()) throw std::invalid_argument("synth: frame buffer must hold " + std::to_string(p_.layout.width) + " x " +
                                std::to_string(p_.layout.height) + " pixels");
  build_tables(i, scratch.table);
  const float* tab = scratch.table.data();
  const PoissonTables& T = poisson_tables();
  for (size_t y = 0; y < p_.layout.height; ++y) {
    int32_t* row = out.data() + y * p_.layout.width;
    if (p_.layout.gap_row(y)) {
      std::fill(row, row + p_.layout.width, kGapValue);
      continue;
    }
    const uint64_t key = detail::stream_key(p_.seed, i, y);
    const PixelGeo* g = geo_.data() + y * p_.layout.width;
    for (size_t x0 = 0; x0 < p_.layout.width; x0 += p_.layout.module_w + p_.layout.gap_x) {
      const size_t x1 = std::min(p_.layout.width, x0 + p_.layout.module_w);
      for (size_t x = x0; x < x1; ++x) {
        const PixelGeo& q = g[x];
        const int k = int(q.pos);
        const float f = q.pos - float(k);
        const float* t = tab + size_t(k) * kTableStride;
        const float v0 = t[0] + f * (t[4] - t[0]);
        const float vc = t[1] + f * (t[5] - t[1]);
        const float vs = t[2] + f * (t[6] - t[2]);
        const double lambda = double(q.sa * (v0 + q.c2 * vc + q.s2 * vs));
        row[x] = poisson_sample(T, lambda, detail::mix64(key + (x + 1) * 0x9e3779b97f4a7c15ULL));
      }
      const size_t g1 = std::min(p_.layout.width, x1 + p_.layout.gap_x);
      std::fill(row + x1, row + g1, kGapValue);
    }
  }
  for (uint32_t idx : dead_) out[idx] = kDeadValue;
  ParamRng hot{detail::stream_key(p_.seed, i, kHotStream)};
  for (uint32_t idx : hot_) out[idx] = kHotMin + int32_t(hot.bits() % (3u << 20));  // 2^20 + 1 .. 2^22
}

std::vector<int32_t> Generator::frame(size_t i) const {
  std::vector<int32_t> v(p_.layout.pixels());
  FrameScratch s;
  frame(i, v, s);
  return v;
}

double Generator::tth(size_t x, size_t y) const {
  return two_theta(p_, (double(y) + 0.5) * p_.layout.pixel_size - p_.poni1,
                   (double(x) + 0.5) * p_.layout.pixel_size - p_.poni2);
}

std::array<double, 2> Generator::beam_centre_px() const {
  // The direct beam (2th = 0) meets the detector at poni2 - L tan(rot1), poni1 + L tan(rot2) / cos(rot1).
  return {(p_.poni2 - p_.distance * std::tan(p_.rot1)) / p_.layout.pixel_size,
          (p_.poni1 + p_.distance * std::tan(p_.rot2) / std::cos(p_.rot1)) / p_.layout.pixel_size};
}

std::string poni_text(const Params& p_) {
  integration::Geometry g;
  g.dist = p_.distance;
  g.poni1 = p_.poni1;
  g.poni2 = p_.poni2;
  g.rot1 = p_.rot1;
  g.rot2 = p_.rot2;
  g.rot3 = p_.rot3;
  g.wavelength = p_.wavelength;
  g.pixel1 = g.pixel2 = p_.layout.pixel_size;
  // One PONI writer for the project (datasets/poni.cpp); the synthetic file adds where it came from.
  return "# Synthetic geometry written by xrdbench dataset synth (" + std::string(kGeneratorName) + " " +
         std::to_string(kGeneratorVersion) + ", seed " + std::to_string(p_.seed) + ")\n" + poni::format(g);
}

cbf::PilatusHeader Generator::header(size_t i) const {
  cbf::PilatusHeader h;
  h.convention = "PILATUS_1.2";
  h.detector = p_.layout.detector + ", S/N 24-0000 (synthetic, " + std::string(kGeneratorName) + ")";
  // Frames 4 ms apart from a fixed start (UTC): deterministic.
  const int64_t ms = int64_t(i) * int64_t(std::llround(p_.exposure_s * 1000));
  const std::time_t t = std::time_t(1489579200 + ms / 1000);  // 2017-03-15T12:00:00Z
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
  h.timestamp = buf;
  h.pixel_size_x_m = p_.layout.pixel_size;
  h.pixel_size_y_m = p_.layout.pixel_size;
  h.exposure_time_s = p_.exposure_s - 0.00095;  // Pilatus3 readout time
  h.exposure_period_s = p_.exposure_s;
  h.tau_s = 0;
  h.count_cutoff = (int64_t(1) << p_.layout.bit_depth) - 2;  // 1048574 for 20 bits
  h.threshold_eV = std::round(12398.4198 / (p_.wavelength * 1e10) / 2);
  h.n_excluded_pixels = p_.dead_pixels + p_.hot_pixels;
  h.wavelength_A = std::round(p_.wavelength * 1e16) / 1e6;  // Angstrom, 6 decimals as Pilatus headers
  h.detector_distance_m = p_.distance;
  auto bc = beam_centre_px();
  h.beam_x_px = std::round(bc[0] * 100) / 100;
  h.beam_y_px = std::round(bc[1] * 100) / 100;
  const FrameInfo fi = frame_info(i);
  h.other["Start_angle"] = fmt(fi.angle_deg) + " deg.";
  h.other["Angle_increment"] = "0 deg.";
  h.other["Sample_translation"] = fmt(std::round(fi.translation * 1e6) / 1e6) + " (sample radii)";
  return h;
}

}  // namespace xrd::synth
