// Boost.JSON's implementation, compiled once (header-only mode) for the znode codecs.
#include <boost/json/src.hpp>
