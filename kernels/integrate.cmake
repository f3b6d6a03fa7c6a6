xrd_add_library(xrd_integrate GLOBS geometry*.cpp csr*.cpp integrat*.cpp DEPS xrd_base TBB::tbb Threads::Threads)
