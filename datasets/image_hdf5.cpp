// One 2D dataset of an HDF5 file (h5py, silx, pyFAI write them), read through the HDF5 C API, converted by HDF5
// to double. Integer and float datasets, any filter the library (and its plugins) decodes.
#include <hdf5.h>

#include "datasets/image_formats.hpp"
#include "kernels/error.hpp"

namespace xrd::image_io::detail {

namespace {

// Silences HDF5's error printing while alive; errors are reported through xrd::Error.
struct QuietErrors {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

struct Id {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~Id() {
    if (id >= 0) close(id);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
};

}  // namespace

Image read_hdf5(const std::filesystem::path& p, const std::string& dataset) {
  const std::string name = p.string() + "::" + dataset;
  QuietErrors quiet;
  Id file(H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file.id < 0) throw Error(p.string(), "", "cannot open the HDF5 file");
  if (H5Lexists(file.id, dataset.c_str(), H5P_DEFAULT) <= 0)
    throw Error(name, "", "no dataset " + dataset + " in the file (expected FILE::/path/to/dataset)");
  Id ds(H5Dopen2(file.id, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (ds.id < 0) throw Error(name, "", dataset + " is not a dataset");
  Id type(H5Dget_type(ds.id), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.id);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw Error(name, "datatype", "the dataset's elements are not integers or floats");
  const size_t bytes = H5Tget_size(type.id);
  const bool is_signed = cls == H5T_FLOAT || H5Tget_sign(type.id) == H5T_SGN_2;
  Id space(H5Dget_space(ds.id), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.id);
  hsize_t dims[3] = {0, 0, 0};
  if (rank < 2 || rank > 3) throw Error(name, "dataspace", "rank " + std::to_string(rank) + ": expected a 2D image");
  H5Sget_simple_extent_dims(space.id, dims, nullptr);
  if (rank == 3 && dims[0] != 1)
    throw Error(name, "dataspace",
                std::to_string(dims[0]) + " frames: expected one 2D image (or a stack of one frame)");
  Image img;
  img.format = "HDF5";
  img.height = static_cast<size_t>(dims[rank - 2]);
  img.width = static_cast<size_t>(dims[rank - 1]);
  if (img.width == 0 || img.height == 0) throw Error(name, "dataspace", "empty dataset");
  img.type = std::string(cls == H5T_FLOAT ? "float" : (is_signed ? "int" : "uint")) + std::to_string(8 * bytes);
  img.pixels.resize(img.width * img.height);
  if (H5Dread(ds.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, img.pixels.data()) < 0)
    throw Error(name, "data", "cannot be read (a filter whose plugin is missing, or a corrupt chunk)");
  return img;
}

}  // namespace xrd::image_io::detail
