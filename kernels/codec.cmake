xrd_add_library(xrd_codec GLOBS byte_offset*.cpp md5*.cpp DEPS xrd_base OpenSSL::Crypto)
