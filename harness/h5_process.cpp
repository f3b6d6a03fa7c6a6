// NXprocess contents from the reduction's inputs (see h5_process.hpp).
#include "harness/h5_process.hpp"

#include <fstream>
#include <sstream>

#include "datasets/image_io.hpp"
#include "datasets/manifest.hpp"
#include "harness/environment.hpp"
#include "base/error.hpp"

#ifndef XRD_VERSION
#define XRD_VERSION "unknown"
#endif

namespace xrd::h5 {

ProcessInfo describe_reduction(const ReductionInputs& in) {
  ProcessInfo p;
  p.program = in.program.empty() ? std::string("xrdbench") : in.program;
  p.version = XRD_VERSION;
  p.commit = harness::git_commit();
  if (!in.poni.empty()) {
    std::ifstream f(in.poni);
    if (!f) throw Error(in.poni.string(), "", "cannot read the PONI file");
    std::ostringstream text;
    text << f.rdbuf();
    p.poni_text = text.str();
    p.poni_file = std::filesystem::absolute(in.poni).string();
    p.text.emplace_back("poni_file", p.poni_file);
    p.text.emplace_back("poni_md5", manifest::file_md5(in.poni));
  }
  auto file = [&](const char* name, const std::filesystem::path& path) {
    if (path.empty()) {
      p.text.emplace_back(std::string(name) + "_file", "none");
      return;
    }
    // An HDF5 dataset "file.h5::/path" (image_io): the file's MD5, the name with its dataset.
    const image_io::Source src = image_io::parse_source(path.string());
    std::string shown = std::filesystem::absolute(src.file).string();
    if (!src.dataset.empty()) shown.append("::").append(src.dataset);
    p.text.emplace_back(std::string(name) + "_file", shown);
    p.text.emplace_back(std::string(name) + "_md5", manifest::file_md5(src.file));
  };
  file("mask", in.mask);
  file("dark", in.dark);
  file("flat", in.flat);
  const integration::Options& o = in.options;
  p.text.emplace_back("pixel_splitting", integration::to_string(o.split));
  p.text.emplace_back("solid_angle_correction", o.solid_angle ? "true" : "false");
  p.text.emplace_back("polarization_correction", o.polarization ? "true" : "false");
  if (o.polarization) p.numbers.emplace_back("polarization_factor", *o.polarization);
  p.numbers.emplace_back("normalization_factor", o.normalization);
  if (o.radial_min) p.numbers.emplace_back("radial_min", *o.radial_min);
  if (o.radial_max) p.numbers.emplace_back("radial_max", *o.radial_max);
  p.text.emplace_back("radial_range", o.radial_min && o.radial_max ? "given" : "automatic (pyFAI's rule)");
  p.text.emplace_back("error_model", "poisson");
  p.text.emplace_back("masked_pixels", "negative pixel values (detector gaps -1, bad pixels -2) and the mask file");
  if (!in.engine.empty()) p.text.emplace_back("engine", in.engine);
  if (!in.source_dir.empty()) p.text.emplace_back("source_folder", std::filesystem::absolute(in.source_dir).string());
  return p;
}

}  // namespace xrd::h5
