// One 2D dataset of an HDF5 file (h5py, silx, pyFAI write them), read through the HDF5 C API, converted by HDF5
// to double. Integer and float datasets, any filter the library (and its plugins) decodes.
#include "base/error.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/image_formats.hpp"

namespace xrd::image_io::detail {

Image read_hdf5(const std::filesystem::path& p, const std::string& dataset) {
  const std::string name = p.string() + "::" + dataset;
  hdf5::Quiet quiet;
  // Closing the file closes whatever a failed read left open in it (a corrupt file can fail half-way).
  hdf5::Id fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  hdf5::ReadFile file(H5Fopen(p.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!file.ok()) {
    // Known: HDF5 1.10.8 leaks internal state on some corrupt superblocks and then prints "infinite loop closing
    // library" at exit; the error below is still reported first, and the exit status is already non-zero.
    throw Error(p.string(), "", "cannot open the HDF5 file (not HDF5, or a corrupt superblock)");
  }
  if (H5Lexists(file.get(), dataset.c_str(), H5P_DEFAULT) <= 0)
    throw Error(name, "", "no dataset " + dataset + " in the file (expected FILE::/path/to/dataset)");
  hdf5::Id ds(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT));
  if (!ds.ok()) throw Error(name, "", dataset + " is not a dataset");
  hdf5::Id type(H5Dget_type(ds.get()));
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw Error(name, "datatype", "the dataset's elements are not integers or floats");
  const size_t bytes = H5Tget_size(type.get());
  const bool is_signed = cls == H5T_FLOAT || H5Tget_sign(type.get()) == H5T_SGN_2;
  hdf5::Id space(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  hsize_t dims[3] = {0, 0, 0};
  if (rank < 2 || rank > 3) throw Error(name, "dataspace", "rank " + std::to_string(rank) + ": expected a 2D image");
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  if (rank == 3 && dims[0] != 1)
    throw Error(name, "dataspace",
                std::to_string(dims[0]) + " frames: expected one 2D image (or a stack of one frame)");
  Image img;
  img.format = "HDF5";
  img.height = static_cast<size_t>(dims[rank - 2]);
  img.width = static_cast<size_t>(dims[rank - 1]);
  check_extent(name, "dataspace", img.width, img.height);
  img.type = std::string(cls == H5T_FLOAT ? "float" : (is_signed ? "int" : "uint")) + std::to_string(8 * bytes);
  check_decoded_size(name, "dataspace", img.width * img.height * sizeof(double),
                     static_cast<size_t>(H5Dget_storage_size(ds.get())));
  img.pixels.resize(img.width * img.height);
  if (H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, img.pixels.data()) < 0)
    throw Error(name, "data", "cannot be read (a filter whose plugin is missing, or a corrupt chunk)");
  return img;
}

}  // namespace xrd::image_io::detail
