// NeXus writer on the HDF5 C API (see h5_writer.hpp).
#include "harness/h5_writer.hpp"

#include <hdf5.h>

#include <mutex>
#include <stdexcept>

#include "kernels/error.hpp"

namespace xrd::h5 {

namespace {

// Silences HDF5's own error stack printing for the life of the object (we report errors ourselves).
struct QuietErrors {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

// The innermost message of HDF5's error stack, for our own error text.
std::string last_hdf5_message() {
  std::string msg;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
        return 0;
      },
      &msg);
  return msg.empty() ? "HDF5 error" : "HDF5: " + msg;
}

}  // namespace

struct NxWriter::Impl {
  std::string path;
  NxLayout layout;
  size_t bins = 0;
  hid_t file = -1, entry = -1, data = -1, intensity = -1, sigma = -1, sources = -1;
  hid_t row_space = -1;      // memory space of one row (1 x bins)
  hid_t string_type = -1;    // variable-length UTF-8 string
  std::vector<float> row32;  // float32 conversion buffer (one row, allocated once)
  std::mutex mutex;
  bool closed = false;

  [[noreturn]] void fail(const std::string& where, const std::string& what = "") {
    throw Error(path, where, what.empty() ? last_hdf5_message() : what);
  }
  template <class T>
  T check(T id, const std::string& where) {
    if (id < 0) fail(where);
    return id;
  }

  // Variable-length UTF-8 strings, as h5py writes them (read back as str, not bytes).
  void attr_string(hid_t obj, const char* name, const std::string& value) {
    const char* ptr = value.c_str();
    const hid_t sp = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(obj, name, string_type, sp, H5P_DEFAULT, H5P_DEFAULT);
    const herr_t st = a < 0 ? -1 : H5Awrite(a, string_type, &ptr);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    if (st < 0) fail("attribute " + std::string(name));
  }
  void attr_strings(hid_t obj, const char* name, const std::vector<std::string>& values) {
    std::vector<const char*> ptrs;
    for (auto& v : values) ptrs.push_back(v.c_str());
    const hsize_t n = values.size();
    const hid_t s = H5Screate_simple(1, &n, nullptr);
    const hid_t a = H5Acreate2(obj, name, string_type, s, H5P_DEFAULT, H5P_DEFAULT);
    const herr_t st = a < 0 ? -1 : H5Awrite(a, string_type, ptrs.data());
    if (a >= 0) H5Aclose(a);
    H5Sclose(s);
    if (st < 0) fail("attribute " + std::string(name));
  }
  void attr_int(hid_t obj, const char* name, int value) {
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(obj, name, H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT);
    const herr_t st = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(s);
    if (st < 0) fail("attribute " + std::string(name));
  }
  hid_t group(hid_t parent, const std::string& name, const char* nx_class) {
    const hid_t g =
        check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group " + name);
    attr_string(g, "NX_class", nx_class);
    return g;
  }
  // A frames x bins dataset, one chunk per frame, filled with 0.
  hid_t pattern_dataset(const char* name) {
    const hsize_t dims[2] = {layout.frames, bins};
    const hsize_t chunk[2] = {1, bins ? bins : 1};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (layout.frames && bins) H5Pset_chunk(dcpl, 2, chunk);
    const hid_t type = layout.float64 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
    const double zero = 0;
    H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &zero);
    const hid_t d = H5Dcreate2(data, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    return check(d, std::string("dataset ") + name);
  }

  void open(const std::filesystem::path& p) {
    QuietErrors quiet;
    file = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) fail("", "cannot create the HDF5 file (" + last_hdf5_message() + ")");
    string_type = check(H5Tcopy(H5T_C_S1), "string type");
    H5Tset_size(string_type, H5T_VARIABLE);
    H5Tset_cset(string_type, H5T_CSET_UTF8);

    attr_string(file, "default", layout.entry);
    attr_string(file, "creator", layout.program);
    entry = group(file, layout.entry, "NXentry");
    attr_string(entry, "default", layout.data);
    {
      const hid_t s = H5Screate(H5S_SCALAR);
      const hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, layout.program.size() ? layout.program.size() : 1);
      const hid_t d = H5Dcreate2(entry, "program_name", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (d < 0 || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, layout.program.c_str()) < 0)
        fail("program_name");
      H5Dclose(d);
      H5Tclose(t);
      H5Sclose(s);
    }
    data = group(entry, layout.data, "NXdata");
    attr_string(data, "signal", "intensity");
    attr_strings(data, "axes", {".", "radial"});
    attr_int(data, "radial_indices", 1);

    intensity = pattern_dataset("intensity");
    attr_string(intensity, "interpretation", "spectrum");
    if (layout.with_sigma) {
      sigma = pattern_dataset("sigma");
      if (H5Lcreate_soft("sigma", data, "intensity_errors", H5P_DEFAULT, H5P_DEFAULT) < 0)
        fail("intensity_errors");
    }
    {
      const hsize_t n = bins;
      const hid_t s = H5Screate_simple(1, &n, nullptr);
      const hid_t d =
          check(H5Dcreate2(data, "radial", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                "dataset radial");
      if (bins && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, layout.radial.data()) < 0)
        fail("dataset radial");
      attr_string(d, "units", layout.radial_unit);
      attr_string(d, "long_name", "radial (" + layout.radial_unit + ")");
      H5Dclose(d);
      H5Sclose(s);
    }
    {
      const hsize_t n = layout.frames;
      const hid_t s = H5Screate_simple(1, &n, nullptr);
      sources = check(H5Dcreate2(data, "source_files", string_type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      "dataset source_files");
      H5Sclose(s);
      if (!layout.source_files.empty()) {
        if (layout.source_files.size() != layout.frames)
          fail("dataset source_files", "source_files has " + std::to_string(layout.source_files.size()) +
                                           " names for " + std::to_string(layout.frames) + " frames");
        std::vector<const char*> ptrs;
        for (auto& v : layout.source_files) ptrs.push_back(v.c_str());
        if (layout.frames && H5Dwrite(sources, string_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
          fail("dataset source_files");
      }
    }
    const hsize_t row[2] = {1, bins};
    row_space = H5Screate_simple(2, row, nullptr);
    if (!layout.float64) row32.resize(bins);
  }

  void write_row(hid_t d, const char* name, size_t frame, std::span<const double> values) {
    const hid_t fspace = H5Dget_space(d);
    const hsize_t start[2] = {frame, 0}, count[2] = {1, bins};
    herr_t st = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, count, nullptr);
    if (st >= 0) {
      if (layout.float64) {
        st = H5Dwrite(d, H5T_NATIVE_DOUBLE, row_space, fspace, H5P_DEFAULT, values.data());
      } else {
        for (size_t i = 0; i < bins; ++i) row32[i] = static_cast<float>(values[i]);
        st = H5Dwrite(d, H5T_NATIVE_FLOAT, row_space, fspace, H5P_DEFAULT, row32.data());
      }
    }
    H5Sclose(fspace);
    if (st < 0) fail(std::string("dataset ") + name + " row " + std::to_string(frame));
  }

  void close_all() {
    for (hid_t* id : {&intensity, &sigma, &sources})
      if (*id >= 0) H5Dclose(*id), *id = -1;
    for (hid_t* id : {&data, &entry})
      if (*id >= 0) H5Gclose(*id), *id = -1;
    if (row_space >= 0) H5Sclose(row_space), row_space = -1;
    if (string_type >= 0) H5Tclose(string_type), string_type = -1;
  }
};

NxWriter::NxWriter(const std::filesystem::path& path, const NxLayout& layout)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path.string();
  impl_->layout = layout;
  impl_->bins = layout.radial.size();
  try {
    impl_->open(path);
  } catch (...) {
    impl_->close_all();
    if (impl_->file >= 0) H5Fclose(impl_->file);
    impl_->file = -1;
    throw;
  }
}

NxWriter::~NxWriter() {
  if (!impl_ || impl_->closed) return;
  try {
    close();
  } catch (...) {
  }
}

size_t NxWriter::frames() const { return impl_->layout.frames; }
size_t NxWriter::bins() const { return impl_->bins; }

void NxWriter::write(size_t frame, std::span<const double> intensity, std::span<const double> sigma) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (m.closed) throw Error(m.path, "", "write after close");
  if (frame >= m.layout.frames)
    throw Error(m.path, "dataset intensity",
                "frame " + std::to_string(frame) + " is out of range (" + std::to_string(m.layout.frames) +
                    " frames)");
  if (intensity.size() != m.bins)
    throw Error(
        m.path, "dataset intensity",
        "pattern has " + std::to_string(intensity.size()) + " bins, the file " + std::to_string(m.bins));
  if (!sigma.empty() && sigma.size() != m.bins)
    throw Error(m.path, "dataset sigma",
                "sigma has " + std::to_string(sigma.size()) + " bins, the file " + std::to_string(m.bins));
  QuietErrors quiet;
  m.write_row(m.intensity, "intensity", frame, intensity);
  if (m.sigma >= 0 && !sigma.empty()) m.write_row(m.sigma, "sigma", frame, sigma);
}

void NxWriter::set_source(size_t frame, const std::string& name) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (m.closed) throw Error(m.path, "", "write after close");
  if (frame >= m.layout.frames)
    throw Error(m.path, "dataset source_files", "frame " + std::to_string(frame) + " is out of range");
  QuietErrors quiet;
  const hid_t fspace = H5Dget_space(m.sources);
  const hsize_t start = frame, count = 1;
  const hid_t mspace = H5Screate_simple(1, &count, nullptr);
  const char* ptr = name.c_str();
  herr_t st = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  if (st >= 0) st = H5Dwrite(m.sources, m.string_type, mspace, fspace, H5P_DEFAULT, &ptr);
  H5Sclose(mspace);
  H5Sclose(fspace);
  if (st < 0) m.fail("dataset source_files row " + std::to_string(frame));
}

void NxWriter::close() {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (m.closed) throw Error(m.path, "", "closed twice");
  m.closed = true;
  QuietErrors quiet;
  m.close_all();
  if (m.file >= 0) {
    const herr_t st = H5Fclose(m.file);
    m.file = -1;
    if (st < 0) m.fail("", "closing the file failed (" + last_hdf5_message() + ")");
  }
}

}  // namespace xrd::h5
