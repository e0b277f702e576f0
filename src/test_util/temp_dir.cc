#include "test_util/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace samsa::test {

temp_dir::temp_dir(const std::string& prefix)
{
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    _path = buf.data();
}

temp_dir::~temp_dir()
{
    std::error_code ec;
    std::filesystem::remove_all(_path, ec);
}

} // namespace samsa::test
