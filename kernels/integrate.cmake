xrd_add_library(xrd_integrate GLOBS geometry*.cpp csr*.cpp integrat*.cpp DEPS TBB::tbb Threads::Threads)
